import { users } from "../../db/schema";
import { createSelectSchema, idColumns, type z } from "../../lib/shapes";

/** A user as the API shows them: the table's columns less the secrets and bookkeeping. */
export const UserSchema = createSelectSchema(users, idColumns("user_id"))
  .pick({ user_id: true, email: true, name: true, role: true })
  .openapi("User");
export type UserView = z.infer<typeof UserSchema>;
