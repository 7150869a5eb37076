/* What poni asks of rsync: the argv of a run (local copy, or over ssh
 * with the ssh command in -e), rsync_opts checking, exit code meanings. */
#include <stdlib.h>
#include <string.h>

#include "rsync.h"
#include "util.h"

/* Seconds without any data over ssh before rsync gives up (exit 30). */
#define RSYNC_IO_TIMEOUT 120

/* rsync's short options that take no argument (rsync 3.x --help). */
static const char flag_letters[] = "vqcarRbudlLkKHpEAXogDtUNOJSnWxmIyzCFsh8iP046";

/* Short options that read an argument, and their long names. */
static const struct {
	char letter;
	const char *long_name;
} arg_letters[] = {
	{ 'B', "--block-size=SIZE" },
	{ 'e', "--rsh=COMMAND" },
	{ 'f', "--filter=RULE" },
	{ 'T', "--temp-dir=DIR" },
	{ 'M', "--remote-option=OPT" },
	{ '@', "--modify-window=NUM" },
};

static void push(char ***argv, size_t *n, char *arg)
{
	*argv = xrealloc(*argv, (*n + 2) * sizeof **argv);
	(*argv)[(*n)++] = arg;
	(*argv)[*n] = NULL;
}

const char *rsync_opts_check(const char *opts, char *msg, size_t msglen)
{
	const char *p;
	size_t i;

	for (p = opts; *p; p++) {
		if (*p != '-' && strchr(flag_letters, *p))
			continue;
		for (i = 0; i < sizeof arg_letters / sizeof *arg_letters; i++)
			if (arg_letters[i].letter == *p)
				break;
		if (i < sizeof arg_letters / sizeof *arg_letters) {
			if (p[1])
				format(msg, msglen,
				    "'%c' (%s) takes an argument, so rsync would read '%s' as its %s: remove '%c'",
				    *p, arg_letters[i].long_name, p + 1,
				    strchr(arg_letters[i].long_name, '=') + 1, *p);
			else
				format(msg, msglen,
				    "'%c' (%s) takes an argument, which rsync_opts cannot give: remove '%c'",
				    *p, arg_letters[i].long_name, *p);
		} else if (*p == 'V') {
			format(msg, msglen, "'V' (--version) makes rsync print its version and exit: remove it");
		} else if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) {
			format(msg, msglen, "'%c' is not an rsync short option without an argument: remove it", *p);
		} else {
			format(msg, msglen, "only rsync's option letters may be given, like azP");
		}
		return msg;
	}
	return NULL;
}

bool ssh_is_openssh(const char *ssh)
{
	const char *name = strrchr(ssh, '/');

	name = name ? name + 1 : ssh;
	return strcmp(name, "dbclient") != 0;
}

char **ssh_argv(const struct sync_conf *s, const char *const *extra)
{
	static const char *const policy[] = { "yes", "accept-new", "no" };
	char **argv = NULL;
	size_t n = 0;

	push(&argv, &n, xstrdup(s->ssh));
	for (; extra && *extra; extra++)
		push(&argv, &n, xstrdup(*extra));
	push(&argv, &n, xstrdup("-p"));
	push(&argv, &n, xasprintf("%d", s->port));
	push(&argv, &n, xstrdup("-i"));
	push(&argv, &n, xstrdup(s->priv_key));
	if (s->remote_user) {
		push(&argv, &n, xstrdup("-l"));
		push(&argv, &n, xstrdup(s->remote_user));
	}
	if (!ssh_is_openssh(s->ssh)) {
		/* dbclient: never asks when it has no terminal; -y accepts
		 * an unknown host key, -yy skips the check */
		if (s->strict_host_key != HOSTKEY_YES)
			push(&argv, &n, xstrdup(s->strict_host_key == HOSTKEY_NO ? "-yy" : "-y"));
		return argv;
	}
	push(&argv, &n, xstrdup("-o"));
	push(&argv, &n, xstrdup("BatchMode=yes"));
	push(&argv, &n, xstrdup("-o"));
	push(&argv, &n, xasprintf("StrictHostKeyChecking=%s", policy[s->strict_host_key]));
	if (s->known_hosts || s->strict_host_key == HOSTKEY_NO) {
		push(&argv, &n, xstrdup("-o"));
		/* ssh splits this option's value at spaces unless quoted */
		push(&argv, &n, s->known_hosts && strpbrk(s->known_hosts, " \t") ?
		    xasprintf("UserKnownHostsFile=\"%s\"", s->known_hosts) :
		    xasprintf("UserKnownHostsFile=%s", s->known_hosts ? s->known_hosts : "/dev/null"));
	}
	return argv;
}

/* The -e command: ssh's argv as one string, which rsync splits at
 * spaces, honouring quotes (a doubled quote standing for itself). */
static char *rsh_command(const struct sync_conf *s, const char *control)
{
	const char *const extra[] = { "-S", control, "-o", "ControlMaster=no", NULL };
	char **argv = ssh_argv(s, control ? extra : NULL), **a;
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
	char **argv = NULL, *prefix, *flags = rsync_flags(s->rsync_opts);
	const char *slash, *name;
	size_t n = 0, i;

	push(&argv, &n, xstrdup(s->rsync));
	if (*flags)
		push(&argv, &n, xasprintf("-%s", flags));
	free(flags);
	if (!r->from_list) {
		/* A full run cannot list what changed: compare mtimes to the
		 * nanosecond, so a same-size rewrite within the second of the
		 * last run is not skipped. (A receiver older than rsync 3.1.3
		 * then sees every file as changed: slower, never stale.) A
		 * target that keeps coarser times (FAT, exFAT) gets a window
		 * of its own, or every full run would copy every file. */
		push(&argv, &n, r->ignore_times ? xstrdup("--ignore-times") :
		    xasprintf("--modify-window=%d", r->modify_window));
	} else {
		/* with --files-from, -a does not imply -r: recurse into
		 * listed directories (new ones) when the user's flags
		 * recurse at all */
		if (strpbrk(s->rsync_opts, "ar") && !r->flat)
			push(&argv, &n, xstrdup("-r"));
		/* The listed paths are known to have changed: transfer them
		 * even when size and mtime look the same (a rewrite of the
		 * same size within the same second as the last run). Paths
		 * whose attributes alone changed are compared as in a full
		 * run, or by size alone: their data is not sent again. */
		if (!r->quick)
			push(&argv, &n, xstrdup("--ignore-times"));
		else if (r->size_only)
			push(&argv, &n, xstrdup("--size-only"));
		else
			push(&argv, &n, xasprintf("--modify-window=%d", r->modify_window));
		push(&argv, &n, xstrdup("--files-from=-"));
		push(&argv, &n, xstrdup("--from0"));
		push(&argv, &n, xstrdup(s->delete ? "--delete-missing-args" : "--ignore-missing-args"));
	}
	if (s->delete)
		push(&argv, &n, xstrdup("--delete"));
	if (s->delete && r->guard)	/* warn (exit 25), delete nothing */
		push(&argv, &n, xstrdup("--max-delete=0"));
	for (i = 0; i < s->nexclude; i++)
		push(&argv, &n, xasprintf("--exclude=%s", s->exclude[i]));
	if (s->transport == TRANSPORT_SSH) {
		/* send the paths through rsync's protocol, never through the
		 * remote shell, whatever the rsync versions */
		push(&argv, &n, xstrdup("--protect-args"));
		/* a link that stalls, or a dbclient asking about an unknown
		 * host key, must end in a failed (and retried) run, not hang
		 * the sync for good; rsync keeps an idle link alive itself */
		push(&argv, &n, xasprintf("--timeout=%d", RSYNC_IO_TIMEOUT));
		push(&argv, &n, xstrdup("-e"));
		push(&argv, &n, rsh_command(s, r->control));
	}
	if (r->from_list) {
		push(&argv, &n, rsync_list_base(s, &prefix));
		free(prefix);
	} else if (r->via_link) {
		/* "/a/./b/" with --relative: what b points to, as b, the way
		 * a listed "b/x" (through the link) makes it */
		name = strrchr(s->source, '/');
		push(&argv, &n, xstrdup("--relative"));
		push(&argv, &n, xasprintf("%.*s/./%s/", (int)(name - s->source), s->source,
		    name + 1));
	} else {
		push(&argv, &n, xstrdup(s->source));
	}
	/* remote_path is always a directory: with its trailing slash rsync
	 * creates it for a file source too, instead of a file of its name */
	slash = s->remote_path[strlen(s->remote_path) - 1] == '/' ? "" : "/";
	if (s->transport == TRANSPORT_LOCAL)
		push(&argv, &n, xasprintf("%s%s", s->remote_path, slash));
	else if (strchr(s->remote_host, ':'))	/* IPv6 address */
		push(&argv, &n, xasprintf("[%s]:%s%s", s->remote_host, s->remote_path, slash));
	else
		push(&argv, &n, xasprintf("%s:%s%s", s->remote_host, s->remote_path, slash));
	return argv;
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
	switch (code) {
	case 0: return "success";
	case 1: return "syntax or usage error";
	case 2: return "protocol incompatibility";
	case 3: return "errors selecting input/output files, dirs";
	case 4: return "requested action not supported";
	case 5: return "error starting client-server protocol";
	case 6: return "daemon unable to append to log-file";
	case 10: return "error in socket I/O";
	case 11: return "error in file I/O";
	case 12: return "error in rsync protocol data stream";
	case 13: return "errors with program diagnostics";
	case 14: return "error in IPC code";
	case 20: return "received SIGUSR1 or SIGINT";
	case 21: return "some error returned by waitpid()";
	case 22: return "error allocating core memory buffers";
	case 23: return "partial transfer due to error";
	case 24: return "partial transfer due to vanished source files";
	case 25: return "the --max-delete limit stopped deletions";
	case 30: return "timeout in data send/receive";
	case 35: return "timeout waiting for daemon connection";
	case 127: return "command not found";
	case 255: return "ssh failed: connection or authentication error";
	default: return "unknown error";
	}
}

int rsync_exit_ok(int code)
{
	return code == 0 || code == 24;
}
