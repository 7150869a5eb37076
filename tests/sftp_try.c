/* tests/sftp_try SSH PORT KEY USER HOST KNOWN_HOSTS CONTROL DIR FROM TO
 * [FROM TO]...: renames DIR/FROM to DIR/TO on HOST through
 * src/sshrename.c, in poni's event loop, for tests/sys_sftp.sh. CONTROL
 * is an ssh master's socket, or "" for none; KNOWN_HOSTS "" for
 * StrictHostKeyChecking=no; SFTP_TRY_PARENTS in the environment: the
 * directories above each TO may be made. Prints "ok" or "no" for each
 * rename, one a line (and " made" when directories were made for it),
 * then "error: " and what sshrename said (empty when all were
 * tried). Exits 0 when it ran (whatever the renames gave), 2 on misuse.
 * SFTP_TRY_TIMEOUT_MS in the environment shortens the time bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/loop.h"
#include "../src/sshrename.h"

static bool *made;

static void done(struct sshrename *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		printf("%s%s\n", r->ok[i] ? "ok" : "no", made[i] ? " made" : "");
	printf("error: %s\n", r->error ? r->error : "(none)");
	loop_done();
}

int main(int argc, char **argv)
{
	struct sync_conf c;
	struct sshrename r;
	char **from, **to;
	bool *ok, *parents;
	size_t n, i;

	if (argc < 9 || (argc - 9) % 2) {
		fprintf(stderr, "usage: sftp_try SSH PORT KEY USER HOST KNOWN_HOSTS CONTROL DIR "
		    "[FROM TO]...\n");
		return 2;
	}
	memset(&c, 0, sizeof c);
	c.ssh = argv[1];
	c.port = atoi(argv[2]);
	c.priv_key = argv[3];
	c.remote_user = argv[4];
	c.remote_host = argv[5];
	c.known_hosts = *argv[6] ? argv[6] : NULL;
	c.strict_host_key = *argv[6] ? HOSTKEY_YES : HOSTKEY_NO;
	n = (size_t)(argc - 9) / 2;
	from = xcalloc(n + 1, sizeof *from);
	to = xcalloc(n + 1, sizeof *to);
	ok = xcalloc(n + 1, sizeof *ok);
	made = xcalloc(n + 1, sizeof *made);
	parents = xcalloc(n + 1, sizeof *parents);
	for (i = 0; i < n; i++) {
		from[i] = argv[9 + 2 * i];
		to[i] = argv[10 + 2 * i];
		parents[i] = getenv("SFTP_TRY_PARENTS") != NULL;
	}
	log_open("stderr", L_DEBUG);
	if (loop_init() < 0) {
		perror("loop_init");
		return 2;
	}
	if (sshrename_start(&r, &c, *argv[7] ? argv[7] : NULL, argv[8], from, to, parents, n,
	    ok, made, done) < 0) {
		done(&r);
		return 0;
	}
	if (getenv("SFTP_TRY_TIMEOUT_MS"))
		loop_timer_set(&r.timer, now_ms() + atol(getenv("SFTP_TRY_TIMEOUT_MS")));
	loop_run();
	sshrename_clear(&r);
	loop_free();
	free(from);
	free(to);
	free(ok);
	free(made);
	free(parents);
	return 0;
}
