// English, the reference catalogue: every other language has exactly these keys and placeholders
// (a unit test checks). `{name}` is a placeholder; a { one, other } entry is chosen by `count`.
export const en = {
  "page.title": "Sign in",
  "page.skipToContent": "Skip to the form",
  "page.errorSummary": "There is a problem",
  "page.backToApplication": "Back to the application",
  "page.logoAlt": "{product} logo",
  "page.footerLabel": "Links",

  "email.heading": "Enter your email address",
  "email.intro": "We will send a one-time code to this address.",
  "email.label": "Email address",
  "email.submit": "Send code",

  "code.heading": "Enter the code",
  "code.intro": "We sent a {length}-digit code to {email}.",
  "code.label": "Code from the email",
  "code.hint": {
    one: "The code is valid for {count} more minute.",
    other: "The code is valid for {count} more minutes.",
  },
  "code.submit": "Continue",
  "code.resend": "Send a new code",
  "code.resendIn": "You can ask for a new code in {seconds} s.",
  "code.resendNow": "Did not get the email? You can ask for a new code.",
  "code.sendFailed": "The email could not be sent. Send a new code to try again.",
  "code.resent": "A new code is on its way. The previous one no longer works.",

  "completed.heading": "Done",
  "completed.body": "Your email address is verified.",
  "completed.continue": "Continue to the application",
  "completed.close": "You can close this window now.",

  "denied.heading": "This cannot continue",
  "denied.no_device": "There is no email address set up for your account yet. Set one up first, then try again.",
  "denied.device_exists": "An email address is already set up for your account.",
  "denied.other": "The request was refused.",

  "expired.heading": "This sign-in has expired",
  "expired.body": "Go back to the application and start again.",

  "invalidLink.heading": "This link cannot be used",
  "invalidLink.body":
    "A sign-in link works once and only for a short time. Go back to the application and start again.",

  "problem.invalid_request": "The form could not be read. Please try again.",
  "problem.invalid_email": "Enter a valid email address, like name@example.com.",
  "problem.email_required": "Enter your email address first.",
  "problem.invalid_code": {
    one: "That code is not correct. You can try {count} more time.",
    other: "That code is not correct. You can try {count} more times.",
  },
  "problem.invalid_code_none": "That code is not correct. Ask for a new code.",
  "problem.code_used": "This code was already used. Reload the page to see where you are.",
  "problem.code_expired": "This code has expired. Ask for a new code.",
  "problem.too_many_attempts": "Too many wrong codes. Ask for a new code.",
  "problem.too_many_attempts_until": {
    one: "Too many wrong codes. Try again in {count} minute.",
    other: "Too many wrong codes. Try again in {count} minutes.",
  },
  "problem.resend_cooldown": "A code was sent moments ago. You can ask for a new one in {seconds} s.",
  "problem.send_limit": {
    one: "Too many codes were sent to this address. Try again in {count} minute.",
    other: "Too many codes were sent to this address. Try again in {count} minutes.",
  },
  "problem.rate_limited": "Too many requests. Please wait {seconds} s and try again.",
  "problem.unauthorized": "This sign-in link is no longer valid.",
  "problem.forbidden": "This sign-in link is no longer valid.",
  "problem.not_found": "This sign-in link is no longer valid.",
  "problem.conflict": "That step is already done. The page shows where you are now.",
  "problem.device_exists": "An email address is already set up for your account.",
  "problem.payload_too_large": "The form could not be read. Please try again.",
  "problem.unsupported_media_type": "The form could not be read. Please try again.",
  "problem.stage_not_ready": "Sign-in is not available right now. Please try again later.",
  "problem.smtp_unavailable": "The email could not be sent. Please try again in a moment.",
  "problem.internal_error": "Something went wrong on our side. Please try again.",
  "problem.csrf": "The form has expired. Please try again.",

  "mail.subject": "Your sign-in code",
  "mail.greeting": "Hi {name},",
  "mail.intro": "Your email code:",
  "mail.validity": {
    one: "If you did not request this code, please ignore this email. The code above is valid for {count} minute.",
    other: "If you did not request this code, please ignore this email. The code above is valid for {count} minutes.",
  },
} as const;
