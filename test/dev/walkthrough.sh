#!/usr/bin/env bash
# A whole flow against `npm run dev`, with curl: start the example enroll flow for a user, read
# the code from Mailpit, submit it, and look at the saved device. Run after `source .dev/env`.
set -euo pipefail
: "${OPERATOR_URL:?source .dev/env first}" "${MAILPIT_URL:?source .dev/env first}"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

# 1. The example application identity (manifests/examples/client-app-access.yaml) may execute the flows.
#    The token is minted for the operator's API (its audience), not for the Kubernetes API server.
APP_TOKEN=$(kubectl create token sign-in-app -n default --audience emailauth.dev/api)

# 2. Start flow "enroll-email" for a user whose address the application knows.
USER_ID="walkthrough-$RANDOM"
START=$(curl -sS -X POST "$OPERATOR_URL/api/v1/namespaces/default/flows/enroll-email/executions" \
  -H "Authorization: Bearer $APP_TOKEN" -H "Content-Type: application/json" \
  -d "{\"user\":{\"id\":\"$USER_ID\",\"email\":\"$USER_ID@example.com\",\"name\":\"Walk Through\"}}")
echo "started:   $START"
ID=$(field id <<<"$START")
EXEC_TOKEN=$(field token <<<"$START")

# 3. The code, as the user would read it in their mailbox (Mailpit's API here).
sleep 1
MAIL=$(curl -sS "$MAILPIT_URL/api/v1/search?query=to:$USER_ID@example.com")
MESSAGE_ID=$(field ID <<<"$MAIL")
CODE=$(curl -sS "$MAILPIT_URL/api/v1/message/$MESSAGE_ID" | sed -n 's/.*"Text":"\([^"]*\)".*/\1/p' | grep -oE '[0-9]{6,10}' | head -n 1)
echo "code:      $CODE (from Mailpit)"

# 4. The user submits it with the execution token.
DONE=$(curl -sS -X POST "$OPERATOR_URL/api/v1/executions/$ID" \
  -H "Authorization: Bearer $EXEC_TOKEN" -H "Content-Type: application/json" -d "{\"code\":\"$CODE\"}")
echo "verified:  $DONE"

# 5. The address is now a confirmed EmailDevice.
kubectl get emaildevices -n default
