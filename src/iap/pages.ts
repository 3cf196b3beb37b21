// What IAP itself answers (x-goog-iap-generated-response: true on every one of them).
export const IAP_GENERATED = { "x-goog-iap-generated-response": "true" } as const;

export function forbiddenPage(): string {
  return `<!DOCTYPE html>
<html lang=en><meta charset=utf-8><title>Error 403 (Forbidden)!!1</title>
<p><b>403.</b> <ins>That’s an error.</ins>
<p>You don't have access. Ask the administrator of this application for access (the IAP-secured Web App User role).
`;
}
