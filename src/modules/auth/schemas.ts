import { z } from "../../lib/openapi";

export const UserSchema = z
  .object({
    user_id: z.number().int(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(["user", "admin"]),
  })
  .openapi("User");
