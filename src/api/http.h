/* The HTTP layer's shared pieces: answering with JSON, and the one error
 * shape of the EvoClaw and BeClever surfaces,
 * {"error":{"code":"budget_exceeded","message":"..."}} (DESIGN §6). */
#ifndef EVOCLAW_API_HTTP_H
#define EVOCLAW_API_HTTP_H

#include <jansson.h>
#include <microhttpd.h>

#include "common/error.h"

/* Queue a response and remember its status for the request counters
 * (http_take_status, same thread); destroys r. */
enum MHD_Result http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);
unsigned http_take_status(void);

/* Queue a JSON response (takes a reference to body). MHD_YES/MHD_NO. */
enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status, json_t *body);

/* JSON as the API writes it (takes the reference to body); malloc'd. */
char *http_json_text(json_t *body, size_t *len);

/* Queue JSON text already made (takes ownership of text). */
enum MHD_Result http_send_json_text(struct MHD_Connection *c, unsigned status, char *text,
				    size_t len);

/* The same with one more header (header NULL: none). */
enum MHD_Result http_send_json_text_with(struct MHD_Connection *c, unsigned status, char *text,
					 size_t len, const char *header, const char *value);

/* Queue {"error":{"code","message"}} with the given status. */
enum MHD_Result http_send_error(struct MHD_Connection *c, unsigned status, const char *code,
				const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The status and code for an internal error (400 invalid, 404, 409, 429,
 * 402, else 500), then http_send_error with its message. */
enum MHD_Result http_send_evo_error(struct MHD_Connection *c, const struct evo_error *err);

#endif
