"""The OpenAPI 3.1 description of /api/v1, written by hand beside the views it describes.

tests/api/test_openapi.py checks it with openapi-spec-validator and validates every response
the tests make against the schema documented for its path, method and status, so a view that
answers something this does not say fails there. Objects are closed (additionalProperties
false): a field added to a response must be added here too.
"""
VERSION = "1.0.0"


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties, required=None):
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": False}


def _nullable(schema):
    return {"oneOf": [schema, {"type": "null"}]}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
URL = {"type": "string", "format": "uri"}
STATUS = {"type": "string", "enum": ["to_follow_up", "followed_up", "snoozed", "archived"]}
PROMPTS = {"type": "array", "items": _obj({"label": STRING, "answer": STRING})}

SCHEMAS = {
    "Error": _obj({"error": _obj({"code": {"type": "string", "pattern": "^[a-z_]+$"}, "message": STRING})}),
    "Card": _obj({"name": STRING, "headline": STRING, "prompts": PROMPTS}),
    "Scan": _obj({"client_id": STRING, "undone": BOOLEAN, "created": BOOLEAN, "scanned_at": TIME}),
    "ScanRequest": {**_obj({
        "client_id": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$",
                      "description": "Made by the client, once per scan (a UUID): a resend records once."},
        "badge": {"type": "string", "maxLength": 300,
                  "description": "The badge token, its code as typed (spaces or dashes allowed) or the badge's "
                                 "link on this site (http or https, its host, /B/<token>)."},
        "talked_about": {"type": "string", "maxLength": 1000,
                         "description": "Added as a line to the shared line of the pair's meeting."},
        "private_note": {"type": "string", "maxLength": 1000, "description": "Added as a line to your own note."},
        "scanned_at": {"oneOf": [TIME, {"type": "null"}],
                       "description": "When the device made the scan (ISO 8601 with an offset); now if absent "
                                      "or later, your check-in there (or its opening) if earlier."},
    }, required=["client_id", "badge"])},
    "ScanAnswer": _obj({"scan": _ref("Scan"), "connection": _nullable(_ref("Connection")), "person": _ref("Card")}),
    "ScanState": _obj({"scan": _ref("Scan")}),
    "PersonSummary": _obj({"name": STRING, "headline": STRING}),
    "PersonDetail": _obj({"name": STRING, "pronouns": STRING, "headline": STRING, "prompts": PROMPTS}),
    "ConnectionSummary": _obj({
        "id": STRING,
        "state": {"type": "string", "enum": ["connected", "no-longer-connected", "account-deleted"]},
        "person": _nullable(_ref("PersonSummary")),
        "status": STATUS,
        "snoozed_until": _nullable(DAY),
        "private_note": {"type": "string", "description": "Your own note: only you ever see it."},
        "talked_about": {"type": "string", "description": "The shared line of your latest meeting."},
        "last_met_at": TIME,
        "times_met": INTEGER,
        "url": URL,
    }),
    "Connection": _obj({
        "id": STRING,
        "state": {"type": "string", "enum": ["connected", "no-longer-connected", "account-deleted"]},
        "person": _nullable(_ref("PersonDetail")),
        "status": STATUS,
        "snoozed_until": _nullable(DAY),
        "private_note": STRING,
        "talked_about": STRING,
        "talked_about_fingerprint": {"type": "string",
                                     "description": "Send it back with talked_about: the line is replaced only if "
                                                    "no one changed it since."},
        "last_met_at": TIME,
        "times_met": INTEGER,
        "url": URL,
        "contacts": {"type": "array", "description": "What the other person shares with you, as the pages show it.",
                     "items": _obj({"kind": STRING, "label": STRING, "value": STRING})},
        "encounters": {"type": "array", "items": _obj({
            "event": _nullable(_obj({"id": STRING, "name": STRING})), "met_at": TIME, "talked_about": STRING})},
    }),
    "ConnectionOne": _obj({"connection": _ref("Connection")}),
    "ConnectionPage": _obj({"connections": {"type": "array", "items": _ref("ConnectionSummary")},
                            "page": INTEGER, "per_page": INTEGER, "total": INTEGER, "next": _nullable(URL)}),
    "EditRequest": _obj({
        "talked_about": {"type": "string", "maxLength": 1000},
        "talked_about_fingerprint": STRING,
        "private_note": {"type": "string", "maxLength": 1000},
        "status": STATUS,
        "snoozed_until": _nullable(DAY),
    }, required=[]),
    "EditAnswer": _obj({"connection": _ref("Connection"), "conflict": _nullable(_obj({
        "code": {"const": "edit_conflict"}, "their_text": STRING, "message": STRING}))}),
    "Me": _obj({"me": _obj({
        "name": STRING, "pronouns": STRING, "headline": STRING,
        "badge": _obj({"token": STRING, "code": STRING, "url": URL}),
        "contacts": {"type": "array", "items": _obj({"kind": STRING, "label": STRING, "value": STRING,
                                                     "shared": BOOLEAN})},
        "prompts": PROMPTS,
        "share_on_connect": BOOLEAN,
        "event": _nullable(_obj({"id": STRING, "name": STRING,
                                 "status": {"type": "string", "enum": ["draft", "open", "closed"]}})),
    })}),
    "Session": _obj({"signed_in": BOOLEAN, "csrf_token": _nullable(STRING), "owner": _nullable(STRING)}),
    "News": _obj({"count": INTEGER, "latest": _nullable(_obj({"name": _nullable(STRING), "connection": STRING, "url": STRING}))}),
}

ERRORS = {
    400: "Refused: a body or value that does not fit (bad_json, bad_body, unknown_field, missing_field, bad_type, "
         "bad_client_id, bad_time, bad_parameter, too_long, control_characters, bad_status, bad_snooze_date, "
         "csrf) or a rule of the night (self_scan, event_closed, not_checked_in, not_at_event, "
         "removed_from_series, hidden_from_event).",
    401: "No one is signed in (sign_in_required), or the bearer token is not valid (bad_token).",
    404: "Not found, or not yours (not_found, unknown_badge, revoked_badge, unknown_scan, unknown_connection).",
    405: "Not a method of this path (method_not_allowed).",
    409: "Conflicts with what exists (scan_undone, client_id_taken, conflict).",
    412: "If-Match named a version that is no longer current (edit_conflict).",
    413: "The body is larger than 64 KB (too_large).",
    415: "The body was not sent as application/json (unsupported_media_type).",
    429: "Too many requests (rate_limited): the same limits as the pages, per person.",
}


def _error(status):
    return {"description": ERRORS[status], "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description, schema, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        answer["headers"] = headers
    return answer


ETAG = {"ETag": {"description": "A strong validator: send it in If-None-Match (GET) or If-Match (PATCH).",
                 "schema": STRING}}
NOT_MODIFIED = {"description": "Unchanged since the ETag sent in If-None-Match; no body.", "headers": ETAG}
READ = [{"bearer": []}, {"session": []}]
WRITE = [{"bearer": []}, {"session": [], "csrf": []}]


def _operation(operation_id, summary, responses, *, security=READ, errors=(401, 429), body=None, parameters=()):
    operation = {"operationId": operation_id, "summary": summary, "security": security,
                 "responses": {**{str(status): answer for status, answer in responses.items()},
                               **{str(status): _error(status) for status in errors}}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if parameters:
        operation["parameters"] = list(parameters)
    return operation


def _path_parameter(name, description):
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STRING}


def _query_parameter(name, description, maximum):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum}}


IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING}
CLIENT_ID = _path_parameter("client_id", "The client id the scan was sent with.")
CONNECTION_ID = _path_parameter("public_id", "The connection's id, as in its url.")
BODY_ERRORS = (400, 401, 413, 415, 429)


def document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "kithmeet API", "version": VERSION,
                 "description": "Your scans, connections and profile. Authenticate with a personal token "
                                "(Authorization: Bearer km_…, made on /settings/api-tokens) or, from kithmeet's "
                                "own pages, the session cookie with the X-CSRFToken header on every change. "
                                "Every error is {\"error\": {\"code\", \"message\"}}; codes are stable."},
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/scans": {"post": _operation(
                "createScan", "Connect with the badge's owner, exactly once per client id.",
                {201: _json("The scan was recorded.", "ScanAnswer"),
                 200: _json("The same client id again: nothing new recorded but its words.", "ScanAnswer")},
                security=WRITE, errors=(*BODY_ERRORS, 404, 409), body="ScanRequest")},
            "/api/v1/scans/{client_id}": {"get": _operation(
                "getScan", "A scan of yours: whether it was undone.", {200: _json("The scan.", "ScanState")},
                errors=(401, 404, 429), parameters=[CLIENT_ID])},
            "/api/v1/scans/{client_id}/undo": {"post": _operation(
                "undoScan", "Take back what a scan made, within ten minutes (twice is fine).",
                {200: _json("Undone.", "ScanState")}, security=WRITE, errors=(400, 401, 404, 429),
                parameters=[CLIENT_ID])},
            "/api/v1/connections": {"get": _operation(
                "listConnections", "Your follow-up list, newest meeting first.",
                {200: _json("A page of it.", "ConnectionPage", ETAG), 304: NOT_MODIFIED},
                errors=(400, 401, 429), parameters=[
                    _query_parameter("page", "From 1.", 10_000),
                    _query_parameter("per_page", "How many a page (default 50).", 100), IF_NONE_MATCH])},
            "/api/v1/connections/{public_id}": {
                "get": _operation("getConnection", "One connection as you see it.",
                                  {200: _json("The connection.", "ConnectionOne", ETAG), 304: NOT_MODIFIED},
                                  errors=(401, 404, 429), parameters=[CONNECTION_ID, IF_NONE_MATCH]),
                "patch": _operation(
                    "editConnection", "Change the shared line, your private note or your status. A line that "
                    "changed since you read it is not overwritten: conflict says so, and the rest is saved.",
                    {200: _json("Saved.", "EditAnswer", ETAG)}, security=WRITE,
                    errors=(*BODY_ERRORS, 404, 409, 412), body="EditRequest",
                    parameters=[CONNECTION_ID, {"name": "If-Match", "in": "header", "required": False,
                                                "schema": STRING}])},
            "/api/v1/me": {"get": _operation("getMe", "Your own profile and badge.",
                                             {200: _json("You.", "Me", ETAG), 304: NOT_MODIFIED},
                                             parameters=[IF_NONE_MATCH])},
            "/api/v1/session": {"get": _operation(
                "getSession", "Whether you are signed in, the CSRF token for the X-CSRFToken header, and the "
                "opaque key your scans wait under on a device (null for a bearer token).",
                {200: _json("The session.", "Session")}, security=[{}, *READ], errors=(401, 429))},
            "/api/v1/news": {"get": _operation(
                "getNews", "Connections you have not seen yet, and the newest one's person: polled by your "
                "open home and badge pages.",
                {200: _json("The count and the newest.", "News", ETAG), 304: NOT_MODIFIED},
                security=[{"news": []}, {"session": []}], errors=(401,), parameters=[IF_NONE_MATCH])},
            "/api/v1/openapi.json": {"get": {
                "operationId": "getOpenAPI", "summary": "This document.", "security": [{}],
                "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A personal token from /settings/api-tokens; cookies are ignored."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The session of kithmeet's own pages."},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                         "description": "With the session, on every change: the page's csrf-token meta, or "
                                        "GET /api/v1/session."},
                "news": {"type": "apiKey", "in": "header", "name": "X-Kithmeet-News",
                         "description": "The signed token the home and badge pages carry for their news check."},
            },
        },
    }
