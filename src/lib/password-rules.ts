import { z } from "zod";

/** Every password set anywhere: registration, `admin:create` and `ADMIN_PASSWORD`. */
export const passwordSchema = z
  .string()
  .min(8)
  .max(128)
  .refine((value) => value.trim() !== "", "Must not be whitespace only");
