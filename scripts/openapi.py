"""Writes shared/api/openapi.json, the API's OpenAPI 3.1 document: `python3 scripts/openapi.py`.

The document is committed; tests keep it equal to this script's output, its paths equal to the
route table, and its schemas equal to the official client's models."""
import json
EVENTS = ["alert.triggered","call.data_extracted","call.graded","call.transfer_completed","campaign.completed","issue.escalated","issue.reported","sms.failed","sms.received","sms.sent","telephony.complete","telephony.incoming","telephony.tool","telephony.turn","test-call.completed","web.complete","web.incoming","web.tool","web.turn"]
def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def nullable(s): 
    s=dict(s); t=s.get("type")
    if t: s["type"]=[t,"null"]; return s
    return {"anyOf":[s,{"type":"null"}]}
ts={"type":"string","format":"date-time","description":"UTC, millisecond precision: 2026-04-20T18:24:10.113Z."}
def obj(props, required=None, desc=None, closed=True):
    o={"type":"object","properties":props,"required":list(props) if required is None else required}
    if closed: o["additionalProperties"]=False
    if desc: o["description"]=desc
    return o
endpoint_props={
 "id":{"type":"string","format":"uuid"},
 "label":{"type":"string"},
 "url":{"type":"string"},
 "role_arn":{"type":"string","description":"The IAM role an SQS or EventBridge url is reached through; absent for an https url."},
 "events":{"type":"array","items":ref("EventsEnum"),"description":"The subscribed types; empty means every type, including types added later."},
 "status":ref("EndpointStatus"),
 "agent_id":{"type":["integer","null"],"minimum":1},
 "agent_name":{"type":["string","null"],"description":"Always null: this service keeps no agent directory."},
 "headers":{"type":"object","additionalProperties":{"type":"string"},"description":"Custom headers sent with every delivery; absent when none are set."},
 "rate_limit":{"type":"integer","minimum":1,"maximum":100,"description":"Deliveries a second the endpoint is sent at most; absent when none is set."},
 "secret_hint":{"type":"string","description":"`whsec_…` and the secret's last six characters, to tell secrets apart."},
 "created_at":ts,"updated_at":ts}
write_props={
 "label":{"type":"string","minLength":1,"maxLength":120,"description":"Trimmed; not blank, at most 120 characters, no control or invisible-only text."},
 "url":{"type":"string","minLength":1,"maxLength":2048,"description":"An https URL (http only for loopback on dev-server) to a public address; or an SQS queue's ARN (arn:aws:sqs:<region>:<account>:<queue>) or an EventBridge bus's (arn:aws:events:<region>:<account>:event-bus/<bus>), with role_arn."},
 "role_arn":{"type":["string","null"],"maxLength":2048,"pattern":"^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/","description":"Required with an ARN url, refused with an https one: a role in the destination's account that trusts the platform with the organization's external id (GET /v1/developer/webhook-aws-identity). In a PATCH it goes with url; an https url drops it."},
 "events":{"type":"array","items":ref("EventsEnum"),"description":"Empty or absent: every type."},
 "status":{"allOf":[ref("EndpointCreateUpdateStatusEnum")],"description":"`failing` is set by the platform only; sending it is a 400."},
 "agent_id":{"type":["integer","null"],"minimum":1,"description":"Scope the endpoint to one agent's events; null clears it."},
 "headers":{"type":["object","null"],"maxProperties":20,"additionalProperties":{"type":"string","maxLength":1024},"description":"Custom headers sent with every delivery: names are HTTP tokens, values visible ASCII; Host, Content-*, Transfer-Encoding, Connection, hop-by-hop, forwarding, signature and webhook-* names are refused. Replaces the whole set; {} or null clears it."},
 "rate_limit":{"type":["integer","null"],"minimum":1,"maximum":100,"description":"Deliveries a second the endpoint is sent at most, across all of the platform's workers; null removes the limit. With or without it, the platform slows down by itself while the receiver answers 429 or 503, sends Retry-After, or times out."}}
# The legacy URL is an https URL only: no queue or bus ARN (LEGACY_FIELDS parse it with EndpointUrl::parse).
legacy_url={**write_props["url"],"description":"An https URL (http only for loopback on dev-server) to a public address."}
schemas={
 "EventsEnum":{"type":"string","enum":EVENTS,"description":"The event catalogue, in the official client's order."},
 "TestEventTypeEnum":{"type":"string","enum":EVENTS+["webhook.test"],"description":"A catalogue type, or `webhook.test` (the default)."},
 "EndpointStatus":{"type":"string","enum":["active","disabled","failing"]},
 "EndpointCreateUpdateStatusEnum":{"type":"string","enum":["active","disabled","failing"]},
 "FailureCategoryEnum":{"type":"string","enum":["aws_access","aws_role","connection","dns","http_error","other","timeout","tls"]},
 "DeliveryStatusEnum":{"type":"string","enum":["delivered","failed","retrying"]},
 "DeliverySourceEnum":{"type":"string","enum":["endpoint","legacy"]},
 "DeveloperWebhookEndpoint":obj(endpoint_props,required=[p for p in endpoint_props if p not in ("headers","rate_limit","role_arn")],desc="A webhook endpoint: the product page's fields, and its custom headers and rate limit when set."),
 "WebhookCreated":obj({**endpoint_props,"secret":{"type":"string","pattern":"^whsec_","description":"The full signing secret, shown only in this answer."}},required=[p for p in endpoint_props if p not in ("headers","rate_limit","role_arn")]+["secret"],desc="The endpoint plus its new secret: the answer to create and rotate-secret."),
 "DeveloperWebhookEndpointCreateUpdateRequest":obj(write_props,required=["label","url"]),
 "PatchedDeveloperWebhookEndpointCreateUpdateRequest":obj(write_props,required=[],desc="Any subset of the fields; an empty or absent body changes nothing."),
 "DeveloperWebhookEndpointsTestBody":obj({"event_type":ref("TestEventTypeEnum")},required=[]),
 "DeveloperWebhookTestDelivery":obj({
   "success":{"type":"boolean"},
   "status":{"type":"string","enum":["delivered","failed"]},
   "response_code":{"type":["integer","null"]},
   "error":{"type":"string","description":"Empty on success."},
   "event_id":{"type":"string","format":"uuid"},
   "event_type":{"type":"string"}},desc="What the receiver did with the first attempt; a failed one is retried once about a minute later."),
 "RotateSecretRequest":obj({"expire_previous_after_hours":{"type":"integer","minimum":0,"maximum":168,"default":24,"description":"How long the previous secret keeps signing, beside the new one."}},required=[]),
 "AwsIdentity":obj({"external_id":{"type":"string","pattern":"^whx_[0-9a-f]{32}$","description":"Issued to the organization once; its AWS endpoints' roles are assumed with it."},"principal":{"type":["string","null"],"description":"The platform's account (arn:<partition>:iam::<account>:root), which the role must trust; null off Lambda."},"trust_policy":{"type":["object","null"],"description":"The role's trust policy, ready to paste; null with principal."}},desc="What a role in the customer's account must trust for an SQS or EventBridge endpoint."),
 "EventTypeInfo":obj({"type":ref("EventsEnum"),"description":{"type":"string"},"blocking":{"type":"boolean","description":"The receiver has 2 s and its answer configures the call."},"legacy_name":{"type":"string","description":"The name the legacy URL receives."}}),
 "DeveloperWebhookDelivery":obj(delivery_props:={
   "event_id":{"type":"string","format":"uuid"},
   "endpoint_id":{"type":"string","description":"Empty for the legacy URL."},
   "endpoint_label":{"type":"string"},
   "url":{"type":["string","null"]},
   "event_type":{"type":"string"},
   "occurred_at":ts,
   "agent_id":{"type":["integer","null"]},
   "call_id":{"type":["integer","null"]},
   "source":ref("DeliverySourceEnum"),
   "status":ref("DeliveryStatusEnum"),
   "attempt_count":{"type":"integer","minimum":0},
   "http_status":{"type":["integer","null"]},
   "failure_category":{"anyOf":[ref("FailureCategoryEnum"),{"type":"null"}]},
   "last_attempt_at":{"type":["string","null"],"format":"date-time"},
   "next_retry_at":{"type":["string","null"],"format":"date-time"},
   "test":{"type":"boolean","description":"Sent by the test route."}},desc="One event at one destination, as listed: body-free and secret-free."),
 "DeliveryAttempt":obj({"at":ts,"http_status":{"type":["integer","null"]},"failure_category":{"anyOf":[ref("FailureCategoryEnum"),{"type":"null"}]},"duration_ms":{"type":"integer","minimum":0}}),
 "DeveloperWebhookDeliveryDetail":obj({**delivery_props,
   "payload":{"type":["object","null"],"description":"The exact body sent (`{\"data\": ..., \"type\": ...}`), kept for the log's retention; null for a record logged before bodies were kept."},
   "attempts":{"type":"array","items":ref("DeliveryAttempt"),"description":"Every attempt, oldest first (the latest 50)."}},desc="One event at one destination, with the body it sent and every attempt."),
 "ResendRequest":obj({"endpoint_id":{"type":"string","description":"The endpoint's id, or `legacy` for the legacy URL."}}),
 "RecoverRequest":obj({"since":{"type":"string","format":"date-time","description":"Resend failed deliveries of events at or after this time (within the log's retention)."},"cursor":{"type":"string","description":"`next_cursor` of the previous call, with the same `since`."}},required=["since"]),
 "RecoverQueued":obj({"queued":{"type":"integer","minimum":0,"maximum":1000},"has_more":{"type":"boolean","description":"More failed deliveries remain: call again with `cursor`."},"next_cursor":{"type":["string","null"]}}),
 "ResendQueued":obj({"queued":{"type":"integer","minimum":0,"maximum":1,"description":"0 while the delivery is still retrying: nothing new was queued."}}),
 "WebhookDeliveryListResponse":obj({"results":{"type":"array","items":ref("DeveloperWebhookDelivery")},"has_more":{"type":"boolean"},"next_cursor":{"type":["string","null"]},"limit":{"type":"integer"}},desc="A page may be short (even empty) with has_more when a filter matched little within the page's read budget; follow next_cursor."),
 "OrganizationWebhook":obj({"url":{"type":"string"},"secret":{"type":"string"},"created_at":ts,"updated_at":ts},desc="The legacy single-URL webhook; its secret can be read back."),
 "OrganizationWebhookRequest":obj({"url":legacy_url}),
 "PatchedOrganizationWebhookRequest":obj({"url":legacy_url},required=[]),
 "EndpointStats":obj({
   "endpoint_id":{"type":"string","format":"uuid"},
   "status":ref("EndpointStatus"),
   "failing_since":{"type":["string","null"],"format":"date-time","description":"The first failure of the current streak."},
   "last_attempt_at":{"type":["string","null"],"format":"date-time"},
   "last_success_at":{"type":["string","null"],"format":"date-time"},
   "last_failure_at":{"type":["string","null"],"format":"date-time"},
   "last_http_status":{"type":["integer","null"],"description":"Of the last attempt."},
   "last_failure_category":{"anyOf":[ref("FailureCategoryEnum"),{"type":"null"}],"description":"Of the last failure."},
   "attempts_24h":{"type":"integer","minimum":0},
   "successes_24h":{"type":"integer","minimum":0},
   "failures_24h":{"type":"integer","minimum":0},
   "effective_rate":{"type":["integer","null"],"minimum":1,"description":"Deliveries a second the endpoint is sent at most now: its rate_limit, or less while its receiver asks to slow down; null for as fast as they come."},
   "hourly":{"type":"array","minItems":24,"maxItems":24,"items":ref("HourCount"),"description":"The same 24 hours one by one, oldest first."},
   "previous_secret_expires_at":{"type":["string","null"],"format":"date-time","description":"Set while a rotated-out secret still signs."}},desc="An endpoint's health. The 24-hour counts cover the current hour and the 23 before it."),
 "HourCount":obj({"hour":{**ts,"description":"The hour's start, UTC."},"successes":{"type":"integer","minimum":0},"failures":{"type":"integer","minimum":0}}),
 "PortalSessionRequest":obj({"expires_in":{"type":"string","default":"1h","description":"How long the link lasts, 5m to 24h (a duration such as 30m, 1h or 8h)."}},required=[]),
 "PortalSession":obj({"url":{"type":"string","format":"uri","description":"The portal's address on this API's origin; the session token is in its fragment, never sent to a server by the browser."},"expires_at":ts},desc="A sign-in link to the portal, for the caller's organization with the caller's role."),
 "Error":obj({"detail":{"type":"string"},"errors":{"type":"object","additionalProperties":{"type":"array","items":{"type":"string"}},"description":"Messages per field or parameter, for a 400 about the input."}},required=["detail"],desc="Every error answer."),
}
def err(desc): return {"description":desc,"content":{"application/json":{"schema":ref("Error")}}}
def ok(desc, schema, headers=None):
    r={"description":desc,"content":{"application/json":{"schema":schema}}}
    if headers: r["headers"]=headers
    return r
replayed={"Idempotent-Replayed":{"description":"`true` when the answer replays an earlier request with the same Idempotency-Key.","schema":{"type":"string","enum":["true"]}}}
def errors(*codes):
    words={"400":"The input is invalid: `detail` says why, `errors` per field.","401":"No valid API key.","403":"The key's role is not owner or admin.","404":"Not found in the caller's organization: no such endpoint or delivery, or (on /v1/webhook) no webhook URL is set.","409":"A conflict, named in `detail`: the Idempotency-Key was used for another request, that request is still running, or its result no longer exists; another rotation came first; the delivery cannot be resent as things stand.","413":"The body is larger than 64 KiB.","503":"Storage is briefly unavailable; retry.","429":"The organization spent its minute's test deliveries (the test route) or resent deliveries (resend and recover); `Retry-After` says when to try again.","500":"Internal error; nothing about it is disclosed."}
    r={c:err(words[c]) for c in codes}
    r["default"]=err("Any other error, with a `detail`.")
    return r
EXAMPLES={
 "DeveloperWebhookEndpointCreateUpdateRequest":{"label":"Orders","url":"https://hooks.example.com/orders","events":["call.graded","sms.received"]},
 "PatchedDeveloperWebhookEndpointCreateUpdateRequest":{"label":"Orders (new)","status":"disabled"},
 "DeveloperWebhookEndpointsTestBody":{"event_type":"webhook.test"},
 "RotateSecretRequest":{"expire_previous_after_hours":24},
 "OrganizationWebhookRequest":{"url":"https://legacy.example.com/hook"},
 "PatchedOrganizationWebhookRequest":{"url":"https://legacy.example.com/other"},
 "ResendRequest":{"endpoint_id":"legacy"},
 "RecoverRequest":{"since":"2026-11-30T00:00:00Z"},
 "PortalSessionRequest":{"expires_in":"1h"},
}
def body(schema, required):
    return {"required":required,"content":{"application/json":{"schema":ref(schema),"example":EXAMPLES[schema]}}}
ep_param={"$ref":"#/components/parameters/EndpointId"}
event_param={"$ref":"#/components/parameters/EventId"}
idem={"$ref":"#/components/parameters/IdempotencyKey"}
links={n:{"operationId":op,"parameters":{"endpoint_id":"$response.body#/id"}} for n,op in [("UpdateEndpoint","updateEndpoint"),("DeleteEndpoint","deleteEndpoint"),("SendTestDelivery","sendTestDelivery"),("RotateSecret","rotateEndpointSecret"),("EndpointStats","endpointStats")]}
created=ok("Created: the endpoint and its secret, shown this once.", ref("WebhookCreated"), replayed); created["links"]=links
paths={
 "/v1/developer/webhook-endpoints":{
  "get":{"operationId":"listEndpoints","summary":"List the organization's endpoints, oldest first.","responses":{"200":ok("The endpoints.",{"type":"array","items":ref("DeveloperWebhookEndpoint")}),**errors("401","403","503","500")}},
  "post":{"operationId":"createEndpoint","summary":"Create an endpoint (at most 50 per organization).","parameters":[idem],"requestBody":body("DeveloperWebhookEndpointCreateUpdateRequest",True),"responses":{"201":created,**errors("400","401","403","409","413","503","500")}}},
 "/v1/developer/webhook-endpoints/{endpoint_id}":{
  "parameters":[ep_param],
  "patch":{"operationId":"updateEndpoint","summary":"Change any subset of label, url, events, status, agent_id.","requestBody":body("PatchedDeveloperWebhookEndpointCreateUpdateRequest",False),"responses":{"200":ok("The updated endpoint.",ref("DeveloperWebhookEndpoint")),**errors("400","401","403","404","413","503","500")}},
  "delete":{"operationId":"deleteEndpoint","summary":"Delete an endpoint and its secret and stats.","responses":{"204":{"description":"Deleted."},**errors("401","403","404","503","500")}}},
 "/v1/developer/webhook-endpoints/{endpoint_id}/test":{
  "parameters":[ep_param],
  "post":{"operationId":"sendTestDelivery","summary":"Send one signed sample event now; a failed one is retried once about a minute later.","parameters":[idem],"requestBody":body("DeveloperWebhookEndpointsTestBody",False),"responses":{"200":ok("What the receiver did, whatever it did.",ref("DeveloperWebhookTestDelivery"),replayed),**errors("400","401","403","404","409","413","429","503","500")}}},
 "/v1/developer/webhook-endpoints/{endpoint_id}/rotate-secret":{
  "parameters":[ep_param],
  "post":{"operationId":"rotateEndpointSecret","summary":"A new secret; the previous one keeps signing beside it for the grace period.","parameters":[idem],"requestBody":body("RotateSecretRequest",False),"responses":{"200":ok("The endpoint and its new secret, shown this once.",ref("WebhookCreated"),replayed),**errors("400","401","403","404","409","413","503","500")}}},
 "/v1/developer/webhook-endpoints/{endpoint_id}/stats":{
  "parameters":[ep_param],
  "get":{"operationId":"endpointStats","summary":"The endpoint's delivery health.","responses":{"200":ok("The endpoint's health.",ref("EndpointStats")),**errors("401","403","404","503","500")}}},
 "/v1/developer/webhook-endpoints/{endpoint_id}/recover":{
  "parameters":[ep_param],
  "post":{"operationId":"recoverEndpoint","summary":"Resend the endpoint's failed deliveries since a time: at most 1,000 a call, newest first.","requestBody":body("RecoverRequest",True),
   "responses":{"202":ok("How many were queued, and whether more remain.",ref("RecoverQueued")),**errors("400","401","403","404","409","413","429","503","500")}}},
 "/v1/developer/webhook-aws-identity":{
  "get":{"operationId":"getAwsIdentity","summary":"What an SQS or EventBridge endpoint's role must trust: the platform's account, with the organization's external id.","responses":{"200":ok("The organization's external id and the trust policy.",ref("AwsIdentity")),**errors("401","403","503","500")}}},
 "/v1/developer/webhook-event-types":{
  "get":{"operationId":"listEventTypes","summary":"The event catalogue, in order.","responses":{"200":ok("Every event type.",{"type":"array","items":ref("EventTypeInfo")}),**errors("401","403","500")}}},
 "/v1/developer/webhook-deliveries":{
  "get":{"operationId":"listDeliveries","summary":"The delivery log, newest first.","parameters":[
    {"name":"endpoint_id","in":"query","schema":{"type":"string","format":"uuid"}},
    {"name":"agent_id","in":"query","schema":{"type":"integer","minimum":1}},
    {"name":"event_type","in":"query","schema":{"type":"string"}},
    {"name":"status","in":"query","schema":ref("DeliveryStatusEnum")},
    {"name":"since","in":"query","schema":{"type":"string","format":"date-time"}},
    {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":200,"default":50}},
    {"name":"cursor","in":"query","schema":{"type":"string"},"description":"`next_cursor` of the previous page, with the same filters."}],
   "responses":{"200":ok("A page of the log.",ref("WebhookDeliveryListResponse")),**errors("400","401","403","503","500")}}},
 "/v1/developer/webhook-deliveries/{event_id}":{
  "parameters":[event_param],
  "get":{"operationId":"getDelivery","summary":"One delivery, with the body it sent and every attempt.","parameters":[
    {"name":"endpoint_id","in":"query","required":True,"schema":{"type":"string"},"description":"The endpoint's id, or `legacy` for the legacy URL."}],
   "responses":{"200":ok("The delivery.",ref("DeveloperWebhookDeliveryDetail")),**errors("400","401","403","404","503","500")}}},
 "/v1/developer/webhook-deliveries/{event_id}/resend":{
  "parameters":[event_param],
  "post":{"operationId":"resendDelivery","summary":"Send the same message again (same webhook-id) in a new chain of attempts; the record goes back to retrying.","requestBody":body("ResendRequest",True),
   "responses":{"202":ok("Queued (or, while the delivery is still retrying, nothing new).",ref("ResendQueued")),**errors("400","401","403","404","409","413","429","503","500")}}},
 "/v1/webhook":{
  "get":{"operationId":"getLegacyWebhook","summary":"The legacy single-URL webhook, secret included.","responses":{"200":ok("The legacy webhook.",ref("OrganizationWebhook")),**errors("401","403","404","503","500")}},
  "put":{"operationId":"setLegacyWebhook","summary":"Set the URL; the first call creates the organization secret.","requestBody":body("OrganizationWebhookRequest",True),"responses":{"200":ok("The legacy webhook.",ref("OrganizationWebhook")),**errors("400","401","403","413","503","500")}},
  "patch":{"operationId":"patchLegacyWebhook","summary":"Change the URL, if given.","requestBody":body("PatchedOrganizationWebhookRequest",False),"responses":{"200":ok("The legacy webhook.",ref("OrganizationWebhook")),**errors("400","401","403","404","413","503","500")}}},
 "/v1/developer/portal-sessions":{
  "post":{"operationId":"createPortalSession","summary":"A sign-in link to the portal, for an hour or as long as asked (5 minutes to 24 hours). A portal session cannot open another.","requestBody":body("PortalSessionRequest",False),"responses":{"201":ok("The link and its end.",ref("PortalSession")),**errors("400","401","403","413","503","500")}}},
 "/portal":{
  "get":{"operationId":"portalPage","summary":"The portal's page (public: its data comes from this API with the link's token).","security":[],"responses":{"200":{"description":"The page.","content":{"text/html":{"schema":{"type":"string"}}}}}}},
 "/portal/{asset}":{
  "parameters":[{"name":"asset","in":"path","required":True,"schema":{"type":"string"},"description":"`portal.js` or `portal.css`."}],
  "get":{"operationId":"portalAsset","summary":"The portal's script or style (public).","security":[],"responses":{"200":{"description":"The file.","content":{"text/javascript":{"schema":{"type":"string"}},"text/css":{"schema":{"type":"string"}}}},"404":err("No such file.")}}},
 "/v1/webhook/rotate-secret":{
  "post":{"operationId":"rotateLegacySecret","summary":"A new organization secret; the previous one keeps signing for the grace period.","parameters":[idem],"requestBody":body("RotateSecretRequest",False),"responses":{"200":ok("The legacy webhook with its new secret.",ref("OrganizationWebhook"),replayed),**errors("400","401","403","404","409","413","503","500")}}},
}
retry_after={"Retry-After":{"description":"Seconds until the organization's next minute.","schema":{"type":"integer","minimum":1,"maximum":60}}}
paths["/v1/developer/webhook-endpoints/{endpoint_id}/test"]["post"]["responses"]["429"]["headers"]=retry_after
resend=paths["/v1/developer/webhook-deliveries/{event_id}/resend"]["post"]["responses"]
resend["429"]["headers"]=retry_after
resend["409"]=err("The destination was deleted or is disabled, or the delivery keeps no body to resend.")
recover=paths["/v1/developer/webhook-endpoints/{endpoint_id}/recover"]["post"]["responses"]
recover["429"]["headers"]=retry_after
recover["409"]=err("The endpoint is disabled.")
for route in ("/v1/developer/webhook-deliveries/{event_id}", "/v1/developer/webhook-deliveries/{event_id}/resend"):
    for op in paths[route].values():
        if isinstance(op, dict) and "responses" in op:
            op["responses"]["404"]=err("No such delivery (event at that destination) in the caller's organization, or it expired.")
for p in paths.values():
    for m,op in p.items():
        if m!="parameters": op["tags"]=["webhooks"]
doc={"openapi":"3.1.0",
 "info":{"title":"Webhook endpoints","version":"1.0.0","description":"Webhook destinations of an organization: each with its own signing secret, status and event subscription. Every route needs an API key of the owner or admin role. Errors are `{\"detail\": ...}`."},
 "security":[{"ApiKey":[]}],
 "tags":[{"name":"webhooks"}],
 "paths":paths,
 "components":{"securitySchemes":{"ApiKey":{"type":"http","scheme":"bearer","description":"`Authorization: Bearer <API key or portal session token>`; its organization and role decide what it sees."}},
  "parameters":{
   "EndpointId":{"name":"endpoint_id","in":"path","required":True,"schema":{"type":"string","format":"uuid"},"description":"The endpoint's id, hyphenated; any other spelling is a 404."},
   "EventId":{"name":"event_id","in":"path","required":True,"schema":{"type":"string","format":"uuid"},"description":"The event's id (the message's `webhook-id` without `msg_`), hyphenated."},
   "IdempotencyKey":{"name":"Idempotency-Key","in":"header","required":False,"schema":{"type":"string","minLength":1,"maxLength":255,"pattern":"^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},"description":"Printable ASCII; spaces inside it are part of it (HTTP drops them at either end). The same key and request within 24 hours answers the first call's answer again; another request is a 409."}},
  "schemas":schemas}}
import pathlib
import sys

def text():
    return json.dumps(doc, indent=2) + "\n"

if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parents[1] / "shared" / "api" / "openapi.json"
    target.write_text(text())
