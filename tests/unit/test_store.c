#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/evoclaw-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static struct agent sample(const char *id, const char *tenant, int64_t created)
{
	struct agent a;
	memset(&a, 0, sizeof a);
	snprintf(a.id, sizeof a.id, "%s", id);
	snprintf(a.name, sizeof a.name, "trader-%s", id);
	snprintf(a.tenant, sizeof a.tenant, "%s", tenant);
	snprintf(a.agent_type, sizeof a.agent_type, "trader");
	snprintf(a.template_name, sizeof a.template_name, "base");
	snprintf(a.provider, sizeof a.provider, "local");
	snprintf(a.task_description, sizeof a.task_description, "watch BTC; it's \"volatile\"");
	a.environment_json = strdup("{\"A\":\"1\"}");
	a.genome_json = strdup("{\"risk\":0.5}");
	a.status = AGENT_PENDING;
	a.timeout_sec = 600;
	a.keep_alive = true;
	a.created_at_ms = created;
	a.fitness = 1.25;
	a.generation = 3;
	return a;
}

Test(store, agents_round_trip_and_persist, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_expect_eq(store_schema_version(s), 13);
	struct agent a = sample("a1", "", 1000);
	cr_assert_eq(store_agent_insert(s, &a, &err), 0, "%s", err.msg);
	cr_expect_eq(store_agent_insert(s, &a, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_CONFLICT);

	/* A change of state is stored whole. */
	agent_mark_running(&a, 2000, &err);
	snprintf(a.sandbox_id, sizeof a.sandbox_id, "sb123");
	agent_mark_stopped(&a, AGENT_STOP_EXITED, 7, "exit 7", 4000, &err);
	a.cost = 123456;
	a.tokens_used = 42;
	a.paused_at_ms = 3000;
	a.paused_total_ms = 500;
	cr_assert_eq(store_agent_update(s, &a, &err), 0, "%s", err.msg);
	store_close(s);

	/* ...and survives closing the database. */
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	struct agent b;
	cr_assert_eq(store_agent_get(s, "a1", &b, &err), 0, "%s", err.msg);
	cr_expect_str_eq(b.name, "trader-a1");
	cr_expect_str_eq(b.task_description, "watch BTC; it's \"volatile\"");
	cr_expect_str_eq(b.sandbox_id, "sb123");
	cr_expect_eq(b.status, AGENT_FAILED);
	cr_expect_eq(b.stop_reason, AGENT_STOP_EXITED);
	cr_expect(b.has_exit_code);
	cr_expect_eq(b.exit_code, 7);
	cr_expect_str_eq(b.error_message, "exit 7");
	cr_expect_eq(b.cost, 123456);
	cr_expect_eq(b.tokens_used, 42);
	cr_expect_eq(b.execution_time_ms, 2000);
	cr_expect_eq(b.paused_at_ms, 3000);
	cr_expect_eq(b.paused_total_ms, 500);
	cr_expect_str_eq(b.environment_json, "{\"A\":\"1\"}");
	cr_expect_null(b.capabilities_json);
	cr_expect(b.keep_alive);
	cr_expect_eq(b.generation, 3);
	cr_expect_float_eq(b.fitness, 1.25, 1e-12);
	agent_clear(&b);
	agent_clear(&a);

	cr_expect_eq(store_agent_get(s, "nope", &b, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	cr_expect_eq(store_agent_delete(s, "a1", &err), 0);
	cr_expect_eq(store_agent_delete(s, "a1", &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	store_close(s);
}

Test(store, lists_newest_first_by_tenant_and_counts_active, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "ag%02d", i);
		struct agent a = sample(id, i % 2 ? "acme" : "", 1000 + i);
		if (i < 3)
			agent_mark_running(&a, 2000, &err);
		if (i == 0)
			agent_mark_stopped(&a, AGENT_STOP_TERMINATED, 0, NULL, 3000, &err);
		cr_assert_eq(store_agent_insert(s, &a, &err), 0, "%s", err.msg);
		agent_clear(&a);
	}
	struct agent *list;
	size_t n;
	cr_assert_eq(store_agent_list(s, NULL, 0, 4, &list, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(list[0].id, "ag09");
	cr_expect_str_eq(list[3].id, "ag06");
	for (size_t i = 0; i < n; i++)
		agent_clear(&list[i]);
	free(list);
	cr_assert_eq(store_agent_list(s, &(struct store_agent_filter){.tenant = "acme"}, 1, 100, &list, &n,
				     &err), 0, "%s", err.msg);
	cr_expect_eq(n, 4); /* 5 of acme's, the first skipped */
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(list[i].tenant, "acme");
		agent_clear(&list[i]);
	}
	free(list);
	int64_t active;
	struct store_agent_filter all_active = {.active_only = true};
	cr_assert_eq(store_agent_count(s, &all_active, &active, &err), 0, "%s", err.msg);
	cr_expect_eq(active, 9); /* all but the terminated one */
	struct store_agent_filter acme_active = {.tenant = "acme", .active_only = true};
	cr_assert_eq(store_agent_count(s, &acme_active, &active, &err), 0, "%s", err.msg);
	cr_expect_eq(active, 5);
	struct store_agent_filter running = {.status = "running"};
	cr_assert_eq(store_agent_count(s, &running, &active, &err), 0, "%s", err.msg);
	cr_expect_eq(active, 2); /* ag01, ag02 */
	/* Destroying a record keeps what it spent. */
	usd_micros spent;
	cr_assert_eq(store_spend_finished(s, NULL, &spent, &err), 0, "%s", err.msg);
	cr_expect_eq(spent, 0);
	cr_assert_eq(store_agent_destroy(s, "ag01", 1234, &err), 0, "%s", err.msg);
	cr_expect_eq(store_agent_destroy(s, "ag01", 1, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	cr_assert_eq(store_agent_destroy(s, "ag02", 100, &err), 0, "%s", err.msg);
	cr_assert_eq(store_spend_finished(s, NULL, &spent, &err), 0, "%s", err.msg);
	cr_expect_eq(spent, 1334);
	/* ...and its tenant's share: ag01 was acme's, ag02 the operator's. */
	cr_assert_eq(store_spend_finished(s, "acme", &spent, &err), 0, "%s", err.msg);
	cr_expect_eq(spent, 1234);
	cr_assert_eq(store_spend_finished(s, "nobody", &spent, &err), 0, "%s", err.msg);
	cr_expect_eq(spent, 0);
	store_close(s);
}

Test(store, refuses_a_newer_schema, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	store_close(s);
	char path[128];
	snprintf(path, sizeof path, "%s/evoclaw.db", dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_expect_eq(store_open(dir, &s, &err), -1);
	cr_expect(strstr(err.msg, "schema version 99") != NULL, "%s", err.msg);
}

static struct api_key_record key_for(const char *id, const char *tenant, uint8_t fill, int64_t at)
{
	struct api_key_record k = {.created_at_ms = at};
	snprintf(k.id, sizeof k.id, "%s", id);
	snprintf(k.tenant_id, sizeof k.tenant_id, "%s", tenant);
	memset(k.hash, fill, sizeof k.hash);
	snprintf(k.prefix, sizeof k.prefix, "evo_%02x", fill);
	return k;
}

Test(store, tenants_and_keys, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	struct tenant t = {.id = "ten_1", .email = "a@example.com", .max_agents = 3,
			   .credit_limit = 5000000, .created_at_ms = 10};
	struct api_key_record k1 = key_for("key_1", "ten_1", 0x11, 10);
	cr_assert_eq(store_tenant_insert(s, &t, &k1, &err), 0, "%s", err.msg);

	/* The same e-mail again is refused, and leaves no key behind. */
	struct tenant dup = t;
	snprintf(dup.id, sizeof dup.id, "ten_2");
	struct api_key_record k2 = key_for("key_2", "ten_2", 0x22, 11);
	cr_assert_eq(store_tenant_insert(s, &dup, &k2, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_CONFLICT);
	cr_expect(strstr(err.msg, "email") != NULL, "%s", err.msg);
	struct api_key_record found;
	cr_expect_eq(store_key_find(s, k2.hash, &found, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);

	struct tenant got;
	cr_assert_eq(store_tenant_get(s, "ten_1", &got, &err), 0);
	cr_expect_str_eq(got.email, "a@example.com");
	cr_expect_eq(got.max_agents, 3);
	cr_expect_eq(got.credit_limit, 5000000);

	cr_assert_eq(store_key_find(s, k1.hash, &found, &err), 0);
	cr_expect_str_eq(found.tenant_id, "ten_1");
	cr_expect_eq(found.revoked_at_ms, 0);

	/* Rotation: a new key and the old one revoked, together. */
	struct api_key_record k3 = key_for("key_3", "ten_1", 0x33, 20);
	cr_assert_eq(store_key_add(s, &k3, "key_1", 20, &err), 0, "%s", err.msg);
	cr_assert_eq(store_key_find(s, k1.hash, &found, &err), 0);
	cr_expect_eq(found.revoked_at_ms, 20);
	/* Rotating a revoked key, or another tenant's, changes nothing. */
	struct api_key_record k4 = key_for("key_4", "ten_1", 0x44, 21);
	cr_expect_eq(store_key_add(s, &k4, "key_1", 21, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	cr_expect_eq(store_key_find(s, k4.hash, &found, &err), -1);

	cr_expect_eq(store_key_revoke(s, "ten_other", "key_3", 30, &err), -1);
	cr_assert_eq(store_key_revoke(s, "ten_1", "key_3", 30, &err), 0);
	cr_expect_eq(store_key_revoke(s, "ten_1", "key_3", 31, &err), -1, "revoked already");

	struct api_key_record *keys;
	size_t n;
	cr_assert_eq(store_key_list(s, "ten_1", &keys, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(keys[0].id, "key_1");
	cr_expect_str_eq(keys[1].id, "key_3");
	cr_expect_eq(keys[1].revoked_at_ms, 30);
	free(keys);
	struct tenant *all;
	cr_assert_eq(store_tenant_list(s, &all, &n, &err), 0);
	cr_expect_eq(n, 1);
	free(all);
	store_close(s);
}

Test(store, audit_is_append_only_and_filtered, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	for (int i = 0; i < 5; i++) {
		struct audit_entry e = {.at_ms = 1000 + i, .status = i == 4 ? 404 : 201};
		snprintf(e.actor, sizeof e.actor, "%s", i % 2 ? "ten_a" : "admin");
		snprintf(e.method, sizeof e.method, "POST");
		snprintf(e.route, sizeof e.route, "/api/cloud/spawn");
		cr_assert_eq(store_audit_append(s, &e, &err), 0, "%s", err.msg);
	}
	struct audit_entry *rows;
	size_t n;
	cr_assert_eq(store_audit_list(s, &(struct audit_filter){0}, 100, &rows, &n, &err), 0);
	cr_assert_eq(n, 5);
	cr_expect_eq(rows[0].at_ms, 1004, "newest first");
	int64_t third = rows[2].seq;
	free(rows);
	cr_assert_eq(store_audit_list(s, &(struct audit_filter){.actor = "ten_a"}, 100, &rows, &n,
				      &err), 0);
	cr_expect_eq(n, 2);
	free(rows);
	cr_assert_eq(store_audit_list(s, &(struct audit_filter){.status = 404}, 100, &rows, &n, &err),
		     0);
	cr_expect_eq(n, 1);
	free(rows);
	cr_assert_eq(store_audit_list(s, &(struct audit_filter){.before_seq = third, .since_ms = 1001},
				      100, &rows, &n, &err), 0);
	cr_expect_eq(n, 1, "older than the third, from 1001 on");
	free(rows);
	store_close(s);

	/* What is written stays: changes are refused by the database itself. */
	char path[128];
	snprintf(path, sizeof path, "%s/evoclaw.db", dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_expect_neq(sqlite3_exec(db, "UPDATE audit SET status = 200", NULL, NULL, NULL), SQLITE_OK);
	cr_expect_neq(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Names of a list, space-separated, into out. */
static void list_names(struct store *s, const struct store_agent_filter *f, char *out, size_t size)
{
	struct agent *list;
	size_t n, used = 0;
	struct evo_error err = {0};
	cr_assert_eq(store_agent_list(s, f, 0, 100, &list, &n, &err), 0, "%s", err.msg);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " " : "", list[i].name);
		agent_clear(&list[i]);
	}
	free(list);
}

Test(store, sorts_searches_and_summarizes, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	static const struct {
		const char *name, *tenant;
		int tokens;
		bool runs, ends;
	} rows[] = {
		{"bravo", "", 30, true, false},    {"Alpha", "acme", 10, true, true},
		{"char_lie", "", 20, false, false}, {"del%ta", "acme", 0, true, false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char id[16];
		snprintf(id, sizeof id, "ag%zu", i);
		struct agent a = sample(id, rows[i].tenant, 1000 + (int64_t)i);
		snprintf(a.name, sizeof a.name, "%s", rows[i].name);
		a.tokens_used = rows[i].tokens;
		if (rows[i].runs) {
			agent_mark_running(&a, 2000, &err);
			snprintf(a.sandbox_id, sizeof a.sandbox_id, "sb%zu", i);
		}
		if (rows[i].ends)
			agent_mark_stopped(&a, AGENT_STOP_EXITED, 1, NULL, 3000, &err);
		cr_assert_eq(store_agent_insert(s, &a, &err), 0, "%s", err.msg);
		agent_clear(&a);
	}
	char names[256];
	list_names(s, &(struct store_agent_filter){.sort = STORE_SORT_NAME, .ascending = true}, names,
		   sizeof names);
	cr_expect_str_eq(names, "Alpha bravo char_lie del%ta"); /* case does not matter */
	list_names(s, &(struct store_agent_filter){.sort = STORE_SORT_TOKENS}, names, sizeof names);
	cr_expect_str_eq(names, "bravo char_lie Alpha del%ta");
	list_names(s, NULL, names, sizeof names);
	cr_expect_str_eq(names, "del%ta char_lie Alpha bravo"); /* newest first */
	list_names(s, &(struct store_agent_filter){.sort = STORE_SORT_CREATED, .ascending = true},
		   names, sizeof names);
	cr_expect_str_eq(names, "bravo Alpha char_lie del%ta");
	/* A substring, case-insensitive; LIKE's wildcards are plain text. */
	list_names(s, &(struct store_agent_filter){.name_contains = "A"}, names, sizeof names);
	cr_expect_str_eq(names, "del%ta char_lie Alpha bravo");
	list_names(s, &(struct store_agent_filter){.name_contains = "_"}, names, sizeof names);
	cr_expect_str_eq(names, "char_lie");
	list_names(s, &(struct store_agent_filter){.name_contains = "%"}, names, sizeof names);
	cr_expect_str_eq(names, "del%ta");
	list_names(s, &(struct store_agent_filter){.name_contains = "l%t"}, names, sizeof names);
	cr_expect_str_eq(names, "del%ta");
	list_names(s, &(struct store_agent_filter){.name_contains = "a", .tenant = "acme"}, names,
		   sizeof names);
	cr_expect_str_eq(names, "del%ta Alpha");

	struct store_agent_summary sum;
	cr_assert_eq(store_agent_summarize(s, NULL, &sum, &err), 0, "%s", err.msg);
	cr_expect_eq(sum.total, 4);
	cr_expect_eq(sum.pending, 1);
	cr_expect_eq(sum.running, 2);
	cr_expect_eq(sum.failed, 1); /* exit status 1 */
	cr_expect_eq(sum.completed, 0);
	cr_expect_eq(sum.sandboxes, 3);
	cr_expect_eq(sum.tokens, 60);
	cr_assert_eq(store_agent_summarize(s, "acme", &sum, &err), 0, "%s", err.msg);
	cr_expect_eq(sum.total, 2);
	cr_expect_eq(sum.tokens, 10);
	cr_assert_eq(store_agent_summarize(s, "nobody", &sum, &err), 0, "%s", err.msg);
	cr_expect_eq(sum.total, 0);
	cr_expect_eq(sum.tokens, 0);
	store_close(s);
}

Test(store, spend_samples_by_tenant_and_window, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	/* Finished spend per tenant: records, and the ledger of destroyed ones. */
	const char *tenants[] = {"", "acme", "acme", "beta"};
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "ag%d", i);
		struct agent a = sample(id, tenants[i], 1000 + i);
		agent_mark_running(&a, 2000, &err);
		agent_mark_stopped(&a, AGENT_STOP_EXITED, 0, NULL, 3000, &err);
		a.cost = 100 * (i + 1);
		cr_assert_eq(store_agent_insert(s, &a, &err), 0, "%s", err.msg);
		agent_clear(&a);
	}
	cr_assert_eq(store_agent_destroy(s, "ag1", 200, &err), 0, "%s", err.msg);
	cr_assert_eq(store_agent_destroy(s, "ag0", 100, &err), 0, "%s", err.msg);
	struct spend_sample *by;
	size_t n;
	cr_assert_eq(store_spend_finished_by_tenant(s, &by, &n, &err), 0, "%s", err.msg);
	usd_micros own = -1, acme = -1, beta = -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(by[i].scope, "") == 0)
			own = by[i].spent;
		else if (strcmp(by[i].scope, "acme") == 0)
			acme = by[i].spent;
		else if (strcmp(by[i].scope, "beta") == 0)
			beta = by[i].spent;
	}
	free(by);
	cr_expect_eq(own, 100);
	cr_expect_eq(acme, 500); /* 300 live on + 200 destroyed */
	cr_expect_eq(beta, 400);

	/* Samples: old ones are forgotten; a window gets the level it starts
	 * at, then one sample per bucket (the last). */
	struct spend_sample in[] = {
		{"", 1000, 1}, {"", 50000, 5}, {"", 60000, 6}, {"", 61000, 7},
		{"", 75000, 9}, {"acme", 60000, 3},
	};
	cr_assert_eq(store_spend_record(s, in, 6, 2000, &err), 0, "%s", err.msg);
	struct spend_sample *h;
	cr_assert_eq(store_spend_history(s, "", 55000, 10000, &h, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_expect_eq(h[0].at_ms, 55000); /* the level before the window, at its start */
	cr_expect_eq(h[0].spent, 5);
	cr_expect_eq(h[1].at_ms, 61000); /* 60000 and 61000 share a bucket */
	cr_expect_eq(h[1].spent, 7);
	cr_expect_eq(h[2].at_ms, 75000);
	free(h);
	/* The sample at 1000 was pruned: nothing before 50000 now. */
	cr_assert_eq(store_spend_history(s, "", 0, 1, &h, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 5 - 1);
	cr_expect_eq(h[0].at_ms, 50000);
	free(h);
	cr_assert_eq(store_spend_history(s, "acme", 0, 1, &h, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 1);
	free(h);
	cr_assert_eq(store_spend_history(s, "nobody", 0, 1, &h, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	free(h);
	store_close(s);
}

Test(store, an_update_never_undoes_a_report, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	struct agent a = sample("fast", "", 1000);
	cr_assert_eq(store_agent_insert(s, &a, &err), 0, "%s", err.msg);
	/* Read before the agent reports (as its start is), written after. */
	struct agent stale;
	cr_assert_eq(store_agent_get(s, "fast", &stale, &err), 0, "%s", err.msg);
	struct agent_report r = {.has_fitness = true, .fitness = 2.5, .has_tokens = true,
				 .tokens_used = 40, .metrics_json = "{\"pnl\":3}", .seen_ms = 5000,
				 .heartbeat_sec = 7};
	cr_assert_eq(store_agent_report(s, "fast", &r, &err), 0, "%s", err.msg);
	stale.status = AGENT_RUNNING;
	cr_assert_eq(store_agent_update(s, &stale, &err), 0, "%s", err.msg);
	struct agent b;
	cr_assert_eq(store_agent_get(s, "fast", &b, &err), 0, "%s", err.msg);
	cr_expect_eq(b.status, AGENT_RUNNING);
	cr_expect_float_eq(b.fitness, 2.5, 1e-12);
	cr_expect_gt(b.fitness_at_ms, 0);
	cr_expect_eq(b.last_seen_ms, 5000);
	cr_expect_eq(b.tokens_used, 40);
	cr_expect_eq(b.heartbeat_sec, 7);
	cr_expect_str_eq(b.metrics_json, "{\"pnl\":3}");
	agent_clear(&b);
	agent_clear(&stale);
	agent_clear(&a);
	store_close(s);
}

Test(store, tournaments_and_their_generations, .init = make_dir, .fini = remove_dir)
{
	struct store *s;
	struct evo_error err = {0};
	cr_assert_eq(store_open(dir, &s, &err), 0, "%s", err.msg);
	struct tournament_record t = {.id = "trn_1", .tenant = "ten_1", .state = "running",
				      .params_json = "{\"count\":2}", .created_at_ms = 10,
				      .updated_at_ms = 10};
	struct tournament_entry e[2] = {
		{.index = 0, .genome_json = "{\"g\":0}", .parent_a = -1, .parent_b = -1,
		 .state = "waiting"},
		{.index = 1, .genome_json = "{\"g\":1}", .parent_a = -1, .parent_b = -1,
		 .state = "waiting"},
	};
	cr_assert_eq(store_tournament_insert(s, &t, e, 2, &err), 0, "%s", err.msg);
	cr_expect_eq(store_tournament_insert(s, &t, e, 2, &err), -1);
	e[1].has_fitness = true;
	e[1].fitness = 3.5;
	snprintf(e[1].state, sizeof e[1].state, "done");
	snprintf(e[1].agent_id, sizeof e[1].agent_id, "trn_1-g0-1");
	cr_assert_eq(store_tournament_entry_update(s, "trn_1", &e[1], &err), 0, "%s", err.msg);
	struct tournament_entry next = {.generation = 1, .index = 0, .genome_json = "{\"g\":1}",
					.parent_a = 1, .parent_b = 1, .survivor = true,
					.state = "waiting"};
	t.generation = 1;
	t.champion_json = "{\"g\":1}";
	t.champion_fitness = 3.5;
	cr_assert_eq(store_tournament_advance(s, &t, &next, 1, &err), 0, "%s", err.msg);
	struct tournament_record got;
	/* Another tenant's is not found. */
	cr_expect_eq(store_tournament_get(s, "trn_1", "ten_2", &got, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	cr_assert_eq(store_tournament_get(s, "trn_1", "ten_1", &got, &err), 0, "%s", err.msg);
	cr_expect_eq(got.generation, 1);
	cr_expect_str_eq(got.champion_json, "{\"g\":1}");
	cr_expect_float_eq(got.champion_fitness, 3.5, 1e-12);
	tournament_record_clear(&got);
	struct tournament_entry *all;
	size_t n;
	cr_assert_eq(store_tournament_entries(s, "trn_1", -1, &all, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_expect(!all[0].has_fitness);
	cr_expect(all[1].has_fitness && all[1].fitness == 3.5);
	cr_expect_str_eq(all[1].agent_id, "trn_1-g0-1");
	cr_expect(all[2].survivor && all[2].generation == 1 && all[2].parent_a == 1);
	tournament_entries_free(all, n);
	struct tournament_record *list;
	cr_assert_eq(store_tournament_list(s, NULL, true, &list, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 1);
	for (size_t i = 0; i < n; i++)
		tournament_record_clear(&list[i]);
	free(list);
	store_close(s);
}
