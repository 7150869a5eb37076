/* What poni asks of rsync: the argv of a run (local copy, or over ssh
 * with the ssh command in -e), rsync_opts checking, exit code meanings. */
#include <stdlib.h>
#include <string.h>

#include "rsync.h"
#include "util.h"

/* Seconds without any data over ssh before rsync gives up (exit 30). */
#define RSYNC_IO_TIMEOUT 120
/* Seconds to wait for an rsync daemon to answer. */
#define RSYNC_CONNECT_TIMEOUT 30

/* Append arg, allocated (the argv frees it), and the NULL after it. */
static void push_own(char ***argv, size_t *n, char *arg)
{
	*argv = xrealloc(*argv, (*n + 2) * sizeof **argv);
	(*argv)[(*n)++] = arg;
	(*argv)[*n] = NULL;
}

/* Append a copy of arg. */
static void push(char ***argv, size_t *n, const char *arg)
{
	push_own(argv, n, xstrdup(arg));
}

bool ssh_is_openssh(const char *ssh)
{
	const char *name = strrchr(ssh, '/');

	name = name ? name + 1 : ssh;
	return strcmp(name, "dbclient") != 0;
}

char **ssh_argv(const struct sync_conf *s, const char *const *extra, const char *host,
    const char *command)
{
	static const char *const policy[] = { "yes", "accept-new", "no" };
	bool openssh = ssh_is_openssh(s->ssh);
	char **argv = NULL;
	size_t n = 0;

	push(&argv, &n, s->ssh);
	for (; extra && *extra; extra++)
		push(&argv, &n, *extra);
	push(&argv, &n, "-p");
	push_own(&argv, &n, xasprintf("%d", s->port));
	push(&argv, &n, "-i");
	push(&argv, &n, s->priv_key);
	if (s->remote_user) {
		push(&argv, &n, "-l");
		push(&argv, &n, s->remote_user);
	}
	if (!openssh) {
		/* dbclient: never asks when it has no terminal; -y accepts
		 * an unknown host key, -yy skips the check */
		if (s->strict_host_key != HOSTKEY_YES)
			push(&argv, &n, s->strict_host_key == HOSTKEY_NO ? "-yy" : "-y");
	} else {
		push(&argv, &n, "-o");
		push(&argv, &n, "BatchMode=yes");
		push(&argv, &n, "-o");
		push_own(&argv, &n, xasprintf("StrictHostKeyChecking=%s",
		    policy[s->strict_host_key]));
	}
	if (openssh && (s->known_hosts || s->strict_host_key == HOSTKEY_NO)) {
		push(&argv, &n, "-o");
		/* ssh splits this option's value at spaces unless quoted */
		push_own(&argv, &n, s->known_hosts && strpbrk(s->known_hosts, " \t") ?
		    xasprintf("UserKnownHostsFile=\"%s\"", s->known_hosts) :
		    xasprintf("UserKnownHostsFile=%s", s->known_hosts ? s->known_hosts : "/dev/null"));
	}
	if (host) {
		if (openssh)	/* the host is never an option (dbclient has no --) */
			push(&argv, &n, "--");
		push(&argv, &n, host);
	}
	if (command)
		push(&argv, &n, command);
	return argv;
}

/* The -e command: ssh's argv as one string, which rsync splits at
 * spaces, honouring quotes (a doubled quote standing for itself). */
static char *rsh_command(const struct sync_conf *s, const char *control)
{
	const char *const extra[] = { "-S", control, "-o", "ControlMaster=no", NULL };
	char **argv = ssh_argv(s, control ? extra : NULL, NULL, NULL), **a;
	struct buf b = { 0 };
	const char *p;

	for (a = argv; *a; a++) {
		if (b.len)
			buf_addc(&b, ' ');
		if (!strpbrk(*a, " '\"")) {
			buf_adds(&b, *a);
			continue;
		}
		buf_addc(&b, '\'');
		for (p = *a; *p; p++) {
			if (*p == '\'')
				buf_addc(&b, '\'');
			buf_addc(&b, *p);
		}
		buf_addc(&b, '\'');
	}
	argv_free(argv);
	return b.s;
}

char *rsync_list_base(const struct sync_conf *s, char **prefix)
{
	size_t len = strlen(s->source);
	const char *name;

	if (s->source[len - 1] == '/') {	/* "/a/b/" syncs b's contents */
		*prefix = xstrdup("");
		return xstrdup(s->source);
	}
	name = strrchr(s->source, '/') + 1;	/* "/a/b" syncs b itself */
	*prefix = xasprintf("%s/", name);
	return xstrndup(s->source, (size_t)(name - s->source));
}

char *rsync_flags(const char *opts)
{
	char *flags = xstrdup(opts), *in, *out;

	for (in = out = flags; *in; in++)
		if (*in != 'P')
			*out++ = *in;
	*out = '\0';
	return flags;
}

char **rsync_argv(const struct sync_conf *s, const struct rsync_run *r)
{
	char **argv = NULL, *prefix, *url, *flags = rsync_flags(s->rsync_opts);
	const char *slash, *name;
	size_t n = 0, i;

	push(&argv, &n, s->rsync);
	if (*flags)
		push_own(&argv, &n, xasprintf("-%s", flags));
	free(flags);
	if (!r->from_list) {
		/* A full run cannot list what changed: compare mtimes to the
		 * nanosecond, so a same-size rewrite within the second of the
		 * last run is not skipped. (A receiver older than rsync 3.1.3
		 * then sees every file as changed: slower, never stale.) A
		 * target that keeps coarser times (FAT, exFAT) gets a window
		 * of its own, or every full run would copy every file. */
		push_own(&argv, &n, r->ignore_times ? xstrdup("--ignore-times") :
		    xasprintf("--modify-window=%d", r->modify_window));
	} else {
		/* with --files-from, -a does not imply -r: recurse into
		 * listed directories (new ones) when the user's flags
		 * recurse at all */
		if (strpbrk(s->rsync_opts, "ar") && !r->flat)
			push(&argv, &n, "-r");
		/* The listed paths are known to have changed: transfer them
		 * even when size and mtime look the same (a rewrite of the
		 * same size within the same second as the last run). Paths
		 * whose attributes alone changed are compared as in a full
		 * run, or by size alone: their data is not sent again. */
		if (!r->quick)
			push(&argv, &n, "--ignore-times");
		else if (r->size_only)
			push(&argv, &n, "--size-only");
		else
			push_own(&argv, &n, xasprintf("--modify-window=%d", r->modify_window));
		push(&argv, &n, "--files-from=-");
		push(&argv, &n, "--from0");
		push(&argv, &n, s->delete ? "--delete-missing-args" : "--ignore-missing-args");
	}
	if (s->delete)
		push(&argv, &n, "--delete");
	if (s->delete && r->guard)	/* warn (exit 25), delete nothing */
		push(&argv, &n, "--max-delete=0");
	for (i = 0; i < s->nexclude; i++)
		push_own(&argv, &n, xasprintf("--exclude=%s", s->exclude[i]));
	if (s->transport == TRANSPORT_RSYNCD) {
		/* no shell on the way, but a stalled daemon must still end
		 * in a failed (and retried) run */
		push_own(&argv, &n, xasprintf("--timeout=%d", RSYNC_IO_TIMEOUT));
		push_own(&argv, &n, xasprintf("--contimeout=%d", RSYNC_CONNECT_TIMEOUT));
		if (s->password_file)
			push_own(&argv, &n, xasprintf("--password-file=%s", s->password_file));
	}
	if (s->transport == TRANSPORT_SSH) {
		/* send the paths through rsync's protocol, never through the
		 * remote shell, whatever the rsync versions */
		push(&argv, &n, "--protect-args");
		/* a link that stalls, or a dbclient asking about an unknown
		 * host key, must end in a failed (and retried) run, not hang
		 * the sync for good; rsync keeps an idle link alive itself */
		push_own(&argv, &n, xasprintf("--timeout=%d", RSYNC_IO_TIMEOUT));
		push(&argv, &n, "-e");
		push_own(&argv, &n, rsh_command(s, r->control));
	}
	/* the user's, after poni's own (a --timeout of theirs wins) */
	for (i = 0; i < s->nrsync_args; i++)
		push(&argv, &n, s->rsync_args[i]);
	if (r->from_list) {
		push_own(&argv, &n, rsync_list_base(s, &prefix));
		free(prefix);
	} else if (r->via_link) {
		/* "/a/./b/" with --relative: what b points to, as b, the way
		 * a listed "b/x" (through the link) makes it */
		name = strrchr(s->source, '/');
		push(&argv, &n, "--relative");
		push_own(&argv, &n, xasprintf("%.*s/./%s/", (int)(name - s->source), s->source,
		    name + 1));
	} else {
		push(&argv, &n, s->source);
	}
	/* remote_path is always a directory: with its trailing slash rsync
	 * creates it for a file source too, instead of a file of its name */
	slash = *s->remote_path && s->remote_path[strlen(s->remote_path) - 1] == '/' ? "" : "/";
	if (s->transport == TRANSPORT_LOCAL) {
		push_own(&argv, &n, xasprintf("%s%s", s->remote_path, slash));
	} else if (s->transport == TRANSPORT_RSYNCD) {
		url = rsync_url(s);
		push_own(&argv, &n, xasprintf("%s%s", url, slash));
		free(url);
	} else if (strchr(s->remote_host, ':')) {	/* IPv6 address */
		push_own(&argv, &n, xasprintf("[%s]:%s%s", s->remote_host, s->remote_path, slash));
	} else {
		push_own(&argv, &n, xasprintf("%s:%s%s", s->remote_host, s->remote_path, slash));
	}
	return argv;
}

char *rsync_url(const struct sync_conf *s)
{
	bool v6 = strchr(s->remote_host, ':') != NULL;

	return xasprintf("rsync://%s%s%s%s%s:%d/%s%s%s", s->remote_user ? s->remote_user : "",
	    s->remote_user ? "@" : "", v6 ? "[" : "", s->remote_host, v6 ? "]" : "", s->port,
	    s->module, *s->remote_path ? "/" : "", s->remote_path);
}

void argv_free(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

const char *rsync_exit_meaning(int code)
{
	static const struct {
		int code;
		const char *meaning;
	} meanings[] = {
		{ 0, "success" },
		{ 1, "syntax or usage error" },
		{ 2, "protocol incompatibility" },
		{ 3, "errors selecting input/output files, dirs" },
		{ 4, "requested action not supported" },
		{ 5, "error starting client-server protocol" },
		{ 6, "daemon unable to append to log-file" },
		{ 10, "error in socket I/O" },
		{ 11, "error in file I/O" },
		{ 12, "error in rsync protocol data stream" },
		{ 13, "errors with program diagnostics" },
		{ 14, "error in IPC code" },
		{ 20, "received SIGUSR1 or SIGINT" },
		{ 21, "some error returned by waitpid()" },
		{ 22, "error allocating core memory buffers" },
		{ 23, "partial transfer due to error" },
		{ 24, "partial transfer due to vanished source files" },
		{ 25, "the --max-delete limit stopped deletions" },
		{ 30, "timeout in data send/receive" },
		{ 35, "timeout waiting for daemon connection" },
		{ 127, "command not found" },
		{ 255, "ssh failed: connection or authentication error" },
	};
	size_t i;

	for (i = 0; i < sizeof meanings / sizeof *meanings; i++)
		if (meanings[i].code == code)
			return meanings[i].meaning;
	return "unknown error";
}

int rsync_exit_ok(int code)
{
	return code == 0 || code == 24;
}
