/* Reading command lines: what every command group of cli.h shares. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"

int cli_dispatch(int argc, char **argv, const char *group, const char *usage,
		 const struct cli_command *commands, size_t count)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < count; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return cli_usage_error("%s: unknown command \"%s\" (see evoclaw %s --help)", group, argv[1],
			       group);
}

int cli_unknown_option(const char *group, const char *command, char **argv)
{
	return cli_usage_error("%s: unknown option or missing value: %s (see evoclaw %s %s --help)",
			       command, argv[optind - 1], group, command);
}

int cli_parse_ids(int argc, char **argv, const char *group, const char *usage, bool *json,
		  bool one_id)
{
	*json = false;
	int first = 1;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		} else if (strcmp(argv[first], "--") == 0) {
			first++;
			break;
		} else {
			return -cli_usage_error("%s: unknown option %s (see evoclaw %s %s --help)",
						argv[0], argv[first], group, argv[0]);
		}
	}
	if (first >= argc || (one_id && argc - first != 1))
		return -cli_usage_error("%.*s", (int)strcspn(usage, "\n"), usage);
	return first;
}

int cli_parse_json_only(int argc, char **argv, const char *group, const char *usage, bool *json)
{
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		} else {
			return cli_usage_error("%s: unexpected argument \"%s\" (see evoclaw %s %s --help)",
					       argv[0], argv[i], group, argv[0]);
		}
	}
	return 0;
}

int cli_parse_integer(const char *opt, const char *text, long long min, long long max,
		      long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end != '\0' || v < min || v > max)
		return cli_usage_error("%s: \"%s\" is not an integer from %lld to %lld", opt, text,
				       min, max);
	*out = v;
	return 0;
}

int cli_env_add(json_t *env, const char *opt, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (eq == NULL || eq == assignment)
		return cli_usage_error("%s: \"%s\" is not KEY=VALUE", opt, assignment);
	_cleanup_free_ char *key = xstrndup(assignment, (size_t)(eq - assignment));
	if (json_object_set_new(env, key, json_string(eq + 1)) < 0)
		return cli_usage_error("%s: \"%s\" is not valid UTF-8", opt, assignment);
	return 0;
}

int cli_set_string(json_t *object, const char *key, const char *opt, const char *value)
{
	if (json_object_set_new(object, key, json_string(value)) < 0)
		return cli_usage_error("%s: not valid UTF-8", opt);
	return 0;
}

int cli_set_integer(json_t *object, const char *key, const char *opt, const char *text,
		    long long min, long long max)
{
	long long number;
	int code = cli_parse_integer(opt, text, min, max, &number);
	if (code == 0)
		json_object_set_new(object, key, json_integer(number));
	return code;
}

int cli_set_argv(json_t *object, const char *key, int argc, char *const *argv)
{
	json_t *array = json_array();
	for (int i = 0; i < argc; i++) {
		if (json_array_append_new(array, json_string(argv[i])) < 0) {
			json_decref(array);
			return cli_usage_error("command argument %d is not valid UTF-8", i + 1);
		}
	}
	json_object_set_new(object, key, array);
	return 0;
}
