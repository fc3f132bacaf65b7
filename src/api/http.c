#include "api/http.h"
#include "api/json_input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread unsigned last_status;

unsigned http_take_status(void)
{
	unsigned s = last_status;
	last_status = 0;
	return s;
}

enum MHD_Result http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	last_status = status;
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_send_json_text_with(struct MHD_Connection *c, unsigned status, char *text,
					 size_t len, const char *header, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	/* Browsers must not guess types or frame the API. */
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (header)
		MHD_add_response_header(r, header, value);
	return http_queue(c, status, r);
}

enum MHD_Result http_send_json_text(struct MHD_Connection *c, unsigned status, char *text,
				    size_t len)
{
	return http_send_json_text_with(c, status, text, len, NULL, NULL);
}

char *http_json_text(json_t *body, size_t *len)
{
	/* Money: 15 significant digits hold any budget to the micro-dollar,
	 * without the binary noise of 17 (0.00029999999999999997). */
	char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(body);
	if (text)
		*len = strlen(text);
	return text;
}

enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	size_t len = 0;
	char *text = http_json_text(body, &len);
	if (text == NULL)
		return MHD_NO;
	return http_send_json_text(c, status, text, len);
}

enum MHD_Result http_send_error(struct MHD_Connection *c, unsigned status, const char *code,
				const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
	/* A field's error names it apart too, so a form can show it there. */
	char field[128];
	if (status == 400 && json_input_error_field(message, field, sizeof field))
		json_object_set_new(json_object_get(body, "error"), "field", json_string(field));
	return http_send_json(c, status, body);
}

enum MHD_Result http_send_evo_error(struct MHD_Connection *c, const struct evo_error *err)
{
	static const struct {
		enum evo_error_kind kind;
		unsigned status;
		const char *code;
	} map[] = {
		{EVO_ERR_INVALID, 400, "invalid_request"}, {EVO_ERR_NOT_FOUND, 404, "not_found"},
		{EVO_ERR_CONFLICT, 409, "conflict"},	  {EVO_ERR_LIMIT, 429, "limit_exceeded"},
		{EVO_ERR_BUDGET, 402, "budget_exceeded"},	  {EVO_ERR_AUTH, 401, "unauthorized"},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (map[i].kind == err->kind)
			return http_send_error(c, map[i].status, map[i].code, "%s", err->msg);
	return http_send_error(c, 500, "internal", "%s", err->msg);
}
