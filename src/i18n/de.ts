// German. Same keys and placeholders as en.ts (checked by a unit test and the type).
import type { Catalogue } from "./catalogue.ts";

export const de: Catalogue = {
  "page.title": "Anmelden",
  "page.skipToContent": "Zum Formular springen",
  "page.errorSummary": "Es gibt ein Problem",
  "page.backToApplication": "Zurück zur Anwendung",
  "page.logoAlt": "Logo von {product}",
  "page.footerLabel": "Links",

  "email.heading": "E-Mail-Adresse eingeben",
  "email.intro": "Wir senden einen Einmalcode an diese Adresse.",
  "email.label": "E-Mail-Adresse",
  "email.submit": "Code senden",

  "code.heading": "Code eingeben",
  "code.intro": "Wir haben einen {length}-stelligen Code an {email} gesendet.",
  "code.label": "Code aus der E-Mail",
  "code.hint": { one: "Der Code gilt noch {count} Minute.", other: "Der Code gilt noch {count} Minuten." },
  "code.submit": "Weiter",
  "code.resend": "Neuen Code senden",
  "code.resendIn": "Einen neuen Code können Sie in {seconds} s anfordern.",
  "code.resendNow": "Keine E-Mail erhalten? Sie können einen neuen Code anfordern.",
  "code.sendFailed": "Die E-Mail konnte nicht gesendet werden. Fordern Sie einen neuen Code an.",
  "code.resent": "Ein neuer Code ist unterwegs. Der vorherige gilt nicht mehr.",

  "completed.heading": "Fertig",
  "completed.body": "Ihre E-Mail-Adresse ist bestätigt.",
  "completed.continue": "Weiter zur Anwendung",
  "completed.close": "Sie können dieses Fenster jetzt schließen.",

  "denied.heading": "Hier geht es nicht weiter",
  "denied.no_device":
    "Für Ihr Konto ist noch keine E-Mail-Adresse eingerichtet. Richten Sie zuerst eine ein und versuchen Sie es dann erneut.",
  "denied.device_exists": "Für Ihr Konto ist bereits eine E-Mail-Adresse eingerichtet.",
  "denied.other": "Die Anfrage wurde abgelehnt.",

  "expired.heading": "Diese Anmeldung ist abgelaufen",
  "expired.body": "Kehren Sie zur Anwendung zurück und beginnen Sie neu.",

  "invalidLink.heading": "Dieser Link kann nicht verwendet werden",
  "invalidLink.body":
    "Ein Anmeldelink funktioniert nur einmal und nur kurze Zeit. Kehren Sie zur Anwendung zurück und beginnen Sie neu.",

  "problem.invalid_request": "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
  "problem.invalid_email": "Geben Sie eine gültige E-Mail-Adresse ein, etwa name@example.com.",
  "problem.email_required": "Geben Sie zuerst Ihre E-Mail-Adresse ein.",
  "problem.invalid_code": {
    one: "Dieser Code ist nicht richtig. Sie haben noch {count} Versuch.",
    other: "Dieser Code ist nicht richtig. Sie haben noch {count} Versuche.",
  },
  "problem.invalid_code_none": "Dieser Code ist nicht richtig. Fordern Sie einen neuen Code an.",
  "problem.code_used": "Dieser Code wurde bereits verwendet. Laden Sie die Seite neu, um zu sehen, wo Sie stehen.",
  "problem.code_expired": "Dieser Code ist abgelaufen. Fordern Sie einen neuen Code an.",
  "problem.too_many_attempts": "Zu viele falsche Codes. Fordern Sie einen neuen Code an.",
  "problem.too_many_attempts_until": {
    one: "Zu viele falsche Codes. Versuchen Sie es in {count} Minute erneut.",
    other: "Zu viele falsche Codes. Versuchen Sie es in {count} Minuten erneut.",
  },
  "problem.resend_cooldown": "Gerade eben wurde ein Code gesendet. Einen neuen können Sie in {seconds} s anfordern.",
  "problem.send_limit": {
    one: "An diese Adresse wurden zu viele Codes gesendet. Versuchen Sie es in {count} Minute erneut.",
    other: "An diese Adresse wurden zu viele Codes gesendet. Versuchen Sie es in {count} Minuten erneut.",
  },
  "problem.rate_limited": "Zu viele Anfragen. Bitte warten Sie {seconds} s und versuchen Sie es erneut.",
  "problem.unauthorized": "Dieser Anmeldelink ist nicht mehr gültig.",
  "problem.forbidden": "Dieser Anmeldelink ist nicht mehr gültig.",
  "problem.not_found": "Dieser Anmeldelink ist nicht mehr gültig.",
  "problem.conflict": "Dieser Schritt ist bereits erledigt. Die Seite zeigt, wo Sie jetzt sind.",
  "problem.device_exists": "Für Ihr Konto ist bereits eine E-Mail-Adresse eingerichtet.",
  "problem.payload_too_large": "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
  "problem.unsupported_media_type": "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
  "problem.stage_not_ready": "Die Anmeldung ist gerade nicht verfügbar. Bitte versuchen Sie es später erneut.",
  "problem.smtp_unavailable": "Die E-Mail konnte nicht gesendet werden. Bitte versuchen Sie es gleich noch einmal.",
  "problem.internal_error": "Bei uns ist etwas schiefgegangen. Bitte versuchen Sie es erneut.",
  "problem.csrf": "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.",

  "mail.subject": "Ihr Anmeldecode",
  "mail.greeting": "Hallo {name},",
  "mail.intro": "Ihr E-Mail-Code:",
  "mail.validity": {
    one: "Wenn Sie diesen Code nicht angefordert haben, ignorieren Sie diese E-Mail. Der Code oben gilt {count} Minute.",
    other:
      "Wenn Sie diesen Code nicht angefordert haben, ignorieren Sie diese E-Mail. Der Code oben gilt {count} Minuten.",
  },
};
