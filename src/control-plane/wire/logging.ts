// google.logging.v2 request bodies.
import { int32, message, repeated, string, wireBody } from "./proto.js";

const L = "google.logging.v2.";

export interface ListLogEntriesBody {
  resourceNames?: string[];
  /** Deprecated in Google's API; still honoured. */
  projectIds?: string[];
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
}

export const listLogEntriesRequest = wireBody(
  message(`${L}ListLogEntriesRequest`, {
    resourceNames: repeated(string()).optional(),
    projectIds: repeated(string()).optional(),
    filter: string().optional(),
    orderBy: string().optional(),
    pageSize: int32().optional(),
    pageToken: string().optional(),
  }),
);
