#include "cli/cli_output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/rfc3339.h"

void cli_table_init(struct cli_table *t, size_t columns, const char *const *headers)
{
	t->columns = columns;
	t->rows = 0;
	t->cells = xcalloc(columns, sizeof *t->cells);
	t->right = xcalloc(columns, sizeof *t->right);
	for (size_t i = 0; i < columns; i++) {
		t->right[i] = headers[i][0] == '>';
		t->cells[i] = xstrdup(headers[i] + t->right[i]);
	}
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	t->rows++;
	t->cells = xrealloc(t->cells, (t->rows + 1) * t->columns * sizeof *t->cells);
	for (size_t i = 0; i < t->columns; i++)
		t->cells[t->rows * t->columns + i] = xstrdup(cells[i] ? cells[i] : "-");
}

/* Terminal columns of UTF-8 text, close enough: one per character. */
static size_t display_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	_cleanup_free_ size_t *width = xcalloc(t->columns, sizeof *width);
	for (size_t r = 0; r <= t->rows; r++)
		for (size_t i = 0; i < t->columns; i++) {
			size_t w = display_width(t->cells[r * t->columns + i]);
			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r <= t->rows; r++) {
		for (size_t i = 0; i < t->columns; i++) {
			const char *cell = t->cells[r * t->columns + i];
			size_t pad = width[i] - display_width(cell);
			bool last = i + 1 == t->columns;
			if (t->right[i])
				fprintf(out, "%*s", (int)pad, "");
			fputs(cell, out);
			if (!t->right[i] && !last)
				fprintf(out, "%*s", (int)pad, "");
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < (t->rows + 1) * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof *t);
}

char *cli_json_text(const json_t *value)
{
	if (value == NULL || json_is_null(value))
		return xstrdup("-");
	if (json_is_string(value))
		return xstrdup(json_string_value(value));
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (text == NULL)
		return xstrdup("?");
	return text;
}

void cli_format_money(const json_t *value, char *out, size_t size)
{
	if (json_is_number(value))
		snprintf(out, size, "$%.4f", json_number_value(value));
	else
		snprintf(out, size, "-");
}

void cli_format_duration(long long seconds, char *out, size_t size)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(out, size, "%llds", seconds);
	else if (seconds < 7200)
		snprintf(out, size, "%lldm", seconds / 60);
	else if (seconds < 3 * 86400)
		snprintf(out, size, "%lldh", seconds / 3600);
	else
		snprintf(out, size, "%lldd", seconds / 86400);
}

void cli_format_age(const json_t *timestamp, char *out, size_t size)
{
	int64_t ms;
	if (rfc3339_parse_ms(json_string_value(timestamp), &ms) < 0) {
		snprintf(out, size, "-");
		return;
	}
	cli_format_duration((long long)time(NULL) - ms / 1000, out, size);
}

/* How each column of an agent table reads its field. */
static const struct {
	const char *header; /* '>': right-aligned */
	const char *key;
	enum { CELL_STRING, CELL_AGE, CELL_DURATION, CELL_JSON, CELL_MONEY } format;
} agent_columns[] = {
	[CLI_AGENT_ID] = {"ID", "id", CELL_STRING},
	[CLI_AGENT_NAME] = {"NAME", "name", CELL_STRING},
	[CLI_AGENT_TYPE] = {"TYPE", "agent_type", CELL_STRING},
	[CLI_AGENT_STATUS] = {"STATUS", "status", CELL_STRING},
	[CLI_AGENT_PROVIDER] = {"PROVIDER", "provider", CELL_STRING},
	[CLI_AGENT_SANDBOX] = {"SANDBOX", "sandbox_id", CELL_STRING},
	[CLI_AGENT_AGE] = {">AGE", "created_at", CELL_AGE},
	[CLI_AGENT_RUNTIME] = {">RUNTIME", "runtime_sec", CELL_DURATION},
	[CLI_AGENT_TOKENS] = {">TOKENS", "tokens_used", CELL_JSON},
	[CLI_AGENT_COST] = {">COST", "cost_usd", CELL_MONEY},
	[CLI_AGENT_TENANT] = {"TENANT", "tenant", CELL_STRING},
};

/* An agent's cell in column, newly allocated; NULL for "-". */
static char *agent_cell(const json_t *agent, enum cli_agent_column column)
{
	const json_t *value = json_object_get(agent, agent_columns[column].key);
	char text[32];
	switch (agent_columns[column].format) {
	case CELL_STRING:
		return json_is_string(value) && json_string_length(value) > 0
			       ? xstrdup(json_string_value(value))
			       : NULL;
	case CELL_AGE:
		cli_format_age(value, text, sizeof text);
		return xstrdup(text);
	case CELL_DURATION:
		if (!json_is_number(value))
			return NULL;
		cli_format_duration((long long)json_number_value(value), text, sizeof text);
		return xstrdup(text);
	case CELL_JSON:
		return cli_json_text(value);
	case CELL_MONEY:
		cli_format_money(value, text, sizeof text);
		return xstrdup(text);
	}
	return NULL;
}

void cli_print_agent_table(const json_t *agents, const enum cli_agent_column *given)
{
	/* The admin's view of tenants' agents gets a tenant column. */
	bool tenants = false;
	size_t i;
	json_t *agent;
	json_array_foreach(agents, i, agent)
		tenants |= json_is_string(json_object_get(agent, "tenant"));
	size_t n = 0;
	while (given[n] != CLI_AGENT_END)
		n++;
	_cleanup_free_ enum cli_agent_column *columns = xcalloc(n + 2, sizeof *columns);
	size_t count = 0;
	for (size_t c = 0; c < n; c++) {
		columns[count++] = given[c];
		if (tenants && given[c] == CLI_AGENT_NAME)
			columns[count++] = CLI_AGENT_TENANT;
	}
	_cleanup_free_ const char **headers = xcalloc(count, sizeof *headers);
	_cleanup_free_ char **cells = xcalloc(count, sizeof *cells);
	for (size_t c = 0; c < count; c++)
		headers[c] = agent_columns[columns[c]].header;
	struct cli_table table;
	cli_table_init(&table, count, headers);
	json_array_foreach(agents, i, agent) {
		for (size_t c = 0; c < count; c++)
			cells[c] = agent_cell(agent, columns[c]);
		cli_table_add(&table, (const char *const *)cells);
		for (size_t c = 0; c < count; c++)
			free(cells[c]);
	}
	cli_table_print(&table, stdout);
	cli_table_free(&table);
}

void cli_print_stopped_agent(const json_t *agent, void *ctx)
{
	const char *id = json_string_value(json_object_get(agent, "id"));
	const char *status = json_string_value(json_object_get(agent, "status"));
	const char *reason = json_string_value(json_object_get(agent, "stop_reason"));
	printf("%s %s", id ? id : "?", status ? status : "?");
	if (reason)
		printf(" (%s)", reason);
	putchar('\n');
}

/* How cli_start_agent prints the agent it started. */
struct started_agent {
	const char *id_key;
	bool quiet;
};

static void print_started_agent(const json_t *agent, void *ctx)
{
	const struct started_agent *how = ctx;
	const char *id = json_string_value(json_object_get(agent, how->id_key));
	const char *status = json_string_value(json_object_get(agent, "status"));
	if (how->quiet)
		printf("%s\n", id ? id : "?");
	else
		printf("%s %s\n", id ? id : "?", status ? status : "?");
}

int cli_start_agent(const char *path, const json_t *body, const char *id_key, bool quiet,
		    bool json)
{
	struct started_agent how = {.id_key = id_key, .quiet = quiet};
	return api_request_print("POST", path, body, json, print_started_agent, &how);
}

int cli_delete_agents(int argc, char **argv, const char *group, const char *usage,
		      const char *prefix, const char *suffix, api_print_fn *print)
{
	bool json;
	int first = cli_parse_ids(argc, argv, group, usage, &json, false);
	if (first < 0)
		return first == -1 ? 0 : -first;
	struct api_client client;
	int code = api_client_init(&client);
	if (code)
		return code;
	for (int i = first; i < argc; i++) {
		_cleanup_free_ char *id = api_escape(argv[i]);
		_cleanup_free_ char *path = xasprintf("%s%s%s", prefix, id, suffix);
		int failed = api_call_print(&client, "DELETE", path, NULL, json, print, NULL);
		if (failed)
			code = failed;
	}
	api_client_free(&client);
	return code;
}

int cli_request_one(int argc, char **argv, const char *group, const char *usage,
		    const char *method, const char *prefix, api_print_fn *print)
{
	bool json = false;
	int first = cli_parse_ids(argc, argv, group, usage, &json, true);
	if (first < 0)
		return first == -1 ? 0 : -first;
	_cleanup_free_ char *id = api_escape(argv[first]);
	_cleanup_free_ char *path = xasprintf("%s%s", prefix, id);
	return api_request_print(method, path, NULL, json, print, NULL);
}

int cli_request_list(int argc, char **argv, const char *group, const char *usage,
		     const char *path, api_print_fn *print)
{
	bool json;
	int code = cli_parse_json_only(argc, argv, group, usage, &json);
	if (code)
		return code < 0 ? 0 : code;
	return api_request_print("GET", path, NULL, json, print, NULL);
}
