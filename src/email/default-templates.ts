// The built-in code email, after authentik's email_otp templates: a greeting, "Email MFA code",
// the code set apart, and the validity sentence. Inline styles and no images or links, so it
// renders the same in every client and loads nothing from anywhere. Constant sources compiled
// once; a stage's ConfigMap may replace both.
import { compileTemplate } from "./template.ts";

export const DEFAULT_TEXT_SOURCE = `Hi {{ user_name }},

Email MFA code:

    {{ code }}

If you did not request this code, please ignore this email. The code above is valid for {{ expires_in_minutes }} minutes.
`;

export const DEFAULT_HTML_SOURCE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ friendly_name }}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background-color:#f4f4f5;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:480px;background-color:#ffffff;border-radius:8px;font-family:Arial,Helvetica,sans-serif;color:#18181b;">
<tr><td style="padding:32px 32px 8px 32px;font-size:18px;font-weight:bold;">Hi {{ user_name }},</td></tr>
<tr><td style="padding:8px 32px;font-size:15px;">Email MFA code.</td></tr>
<tr><td align="center" style="padding:16px 32px;">
<div style="display:inline-block;padding:14px 28px;background-color:#18181b;color:#ffffff;border-radius:6px;font-family:'Courier New',Courier,monospace;font-size:28px;font-weight:bold;letter-spacing:6px;">{{ code }}</div>
</td></tr>
<tr><td style="padding:16px 32px 32px 32px;font-size:13px;color:#52525b;">If you did not request this code, please ignore this email. The code above is valid for {{ expires_in_minutes }} minutes.</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;

export const DEFAULT_TEMPLATES = Object.freeze({
  html: compileTemplate(DEFAULT_HTML_SOURCE, "html"),
  text: compileTemplate(DEFAULT_TEXT_SOURCE, "text"),
});
