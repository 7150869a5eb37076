/* poni: command line and start-up. Reads the config, hands the syncs to
 * the daemon (daemon.c) and the signals to it, and runs the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"
#include "daemon.h"
#include "loop.h"
#include "status.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static void usage(int fd)
{
	format_fd(fd,
	    "usage: poni [-c FILE] [-t] [-n] [-1] [-s|-S] [-d] [-p PIDFILE] [-v] [-V] [-h]\n"
	    "  -c, --config FILE    config file (default %s)\n"
	    "  -t, --check          check the config, print each sync, exit\n"
	    "  -n, --dry-run        log the rsync command lines instead of running them\n"
	    "  -1, --once           run every sync once, then exit\n"
	    "  -s, --status         ask the running poni of the config how its syncs are\n"
	    "  -S, --status-sh      the same as KEY='VALUE' words, a line per sync\n"
	    "  -d, --daemon         detach into the background\n"
	    "  -p, --pidfile FILE   write the pid there (locked; removed at exit)\n"
	    "  -v, --verbose        debug logging\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           this help\n", DEFAULT_CONFIG);
}

/* What the command line asks for. */
struct options {
	const char *config, *pidfile;
	int check, dry_run, once, detach, verbose, status;
};

/* The options, as getopt_long(3) reads them: bundled short ones (-tn),
 * -cFILE or -c FILE, --config=FILE or --config FILE, a long name
 * shortened to any prefix that names one option, options after other
 * arguments, and "--" to end them. Own code: musl's getopt_long brings
 * stdio along. */
static const char short_options[] = "c:tn1sSdp:vVh";
static const struct {
	char name[10];	/* in place: smaller than a pointer to it */
	char c;
} long_options[] = {
	{ "config", 'c' }, { "check", 't' }, { "dry-run", 'n' }, { "once", '1' },
	{ "status", 's' }, { "status-sh", 'S' },
	{ "daemon", 'd' }, { "pidfile", 'p' }, { "verbose", 'v' },
	{ "version", 'V' }, { "help", 'h' }
};

/* "poni: BEFORE OPTION AFTER" (len bytes of opt), then the usage; 2 is
 * the exit status. */
static int usage_error(const char *before, const char *opt, int len, const char *after)
{
	format_fd(2, "poni: %s%.*s%s\n", before, len, opt, after);
	usage(2);
	return 2;
}

/* The letter of the long option at name ("config=FILE": *value then
 * points at FILE), or -1 after a usage error. */
static int long_option(const char *name, const char **value)
{
	int len = (int)strcspn(name, "="), i, found = -1, matches = 0;

	*value = name[len] ? name + len + 1 : NULL;
	for (i = 0; len && i < (int)(sizeof long_options / sizeof *long_options); i++) {
		if (strncmp(long_options[i].name, name, (size_t)len) != 0)
			continue;
		found = i;
		if (!long_options[i].name[len]) {	/* the whole name */
			matches = 1;
			break;
		}
		matches++;
	}
	if (matches == 1)
		return long_options[found].c;
	if (matches)
		usage_error("option --", name, len, " is ambiguous: give more of its name");
	else
		usage_error("unknown option --", name, len, "");
	return -1;
}

/* Take option c (with its value, or NULL). Returns -1 to go on, or the
 * exit status for -V and -h. */
static int take_option(struct options *o, int c, const char *value)
{
	switch (c) {
	case 'c': o->config = value; break;
	case 't': o->check = 1; break;
	case 'n': o->dry_run = 1; break;
	case '1': o->once = 1; break;
	case 's': o->status = 1; break;
	case 'S': o->status = 2; break;
	case 'd': o->detach = 1; break;
	case 'p': o->pidfile = value; break;
	case 'v': o->verbose = 1; break;
	case 'V':
		format_fd(1, "poni %s\n", VERSION);
		return 0;
	default:
		usage(1);
		return 0;
	}
	return -1;
}

/* Read the command line into o. Returns -1 to go on, or the exit
 * status: 0 after -V or -h, 2 after a usage error. */
static int parse_options(int argc, char *argv[], struct options *o)
{
	const char *arg, *value, *other = NULL, *spec;
	int i, c, r;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || !arg[1]) {	/* not an option; "-" neither */
			if (!other)
				other = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			if (!other && i + 1 < argc)
				other = argv[i + 1];
			break;
		}
		if (arg[1] == '-') {
			if ((c = long_option(arg + 2, &value)) < 0)
				return 2;
			if (strchr(short_options, c)[1] != ':') {
				if (value)
					return usage_error("option --", arg + 2,
					    (int)strcspn(arg + 2, "="), " takes no argument");
			} else if (!value && !(value = argv[++i])) {
				return usage_error("option --", arg + 2,
				    (int)strlen(arg + 2), " needs an argument");
			}
			if ((r = take_option(o, c, value)) >= 0)
				return r;
			continue;
		}
		for (arg++; *arg; arg++) {	/* -tn, -cFILE, -c FILE */
			if (*arg == ':' || !(spec = strchr(short_options, *arg)))
				return usage_error("unknown option -", arg, 1, "");
			value = NULL;
			if (spec[1] == ':' && !(value = arg[1] ? arg + 1 : argv[++i]))
				return usage_error("option -", arg, 1, " needs an argument");
			if ((r = take_option(o, *arg, value)) >= 0)
				return r;
			if (value)
				break;
		}
	}
	if (other) {
		format_fd(2, "poni: unexpected argument '%s'\n", other);
		usage(2);
		return 2;
	}
	return -1;
}

/* path made absolute against the current directory (never freed: it
 * lives as long as poni). */
static const char *absolute(const char *path)
{
	char cwd[4096];

	if (*path == '/')
		return path;
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	return xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
}

/* Print each sync and whether its source is there; 0 when all is well. */
static int check_config(const struct config *cfg)
{
	struct stat st;
	size_t i;

	for (i = 0; i < cfg->nsyncs; i++) {
		char *line = sync_summary(&cfg->syncs[i]);
		format_fd(1, "%s\n", line);
		free(line);
		if (stat(cfg->syncs[i].source, &st) < 0)
			format_fd(1, "  note: %s: %s (poni waits for it)\n",
			    cfg->syncs[i].source, strerror(errno));
	}
	format_fd(1, "max_runs: %d (rsyncs at once, across all syncs)\n", cfg->max_runs);
	format_fd(1, "configuration OK: %zu sync%s\n", cfg->nsyncs, cfg->nsyncs == 1 ? "" : "s");
	return 0;
}

/* The pidfile is locked with flock, whose lock belongs to the open file
 * and so survives the forks of daemonize(). */
static int pidfile_lock(const char *path)
{
	char old[32] = "";
	ssize_t n;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0) {
		format_fd(2, "poni: pidfile %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = read(fd, old, sizeof old - 1);
		old[n > 0 ? n : 0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		format_fd(2, "poni: pidfile %s is locked: another poni%s%s%s is running\n",
		    path, *old ? " (pid " : "", old, *old ? ")" : "");
		close(fd);
		return -1;
	}
	return fd;
}

static const char *pidfile_path;	/* removed at exit, fatal() too */

/* Run by exit() and by main's return, as an atexit() handler would be:
 * libc's atexit machinery costs more than this one function. */
__attribute__((__destructor__)) static void pidfile_remove(void)
{
	if (pidfile_path)
		unlink(pidfile_path);
}

static void pidfile_write(int fd)
{
	char pid[32];
	int len = format(pid, sizeof pid, "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("cannot write the pidfile: %s", strerror(errno));
}

/* The static builds use _Fork (POSIX 2024; musl 1.2.3, glibc 2.34; see
 * config.mk): musl's fork() wraps it in the locking that a program with
 * threads needs, 1.3 KB of the binary, and poni has just one thread. */
#ifndef PONI_FORK
#define PONI_FORK fork
#endif

/* Fork; the parent exits, the child waits (up to 1 s) until it has:
 * until then the parent holds the locked pidfile too, and would keep it
 * locked for a moment after a poni killed right after its start. */
static void fork_and_outlive_parent(void)
{
	pid_t parent = getpid(), pid;
	int i;

	if ((pid = PONI_FORK()) < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	/* 1 ms each: poll() with no fds sleeps as nanosleep() would, and
	 * the loop has it already (nanosleep is 300 bytes more on armhf) */
	for (i = 0; i < 1000 && getppid() == parent; i++)
		poll(NULL, 0, 1);
}

/* Detach: fork, new session, fork again; cwd /, stdin on /dev/null, and
 * stdout/stderr too unless the log goes there. */
static void daemonize(void)
{
	int fd, logfd = log_fd();

	fork_and_outlive_parent();
	if (setsid() < 0)
		fatal("setsid: %s", strerror(errno));
	fork_and_outlive_parent();
	if (chdir("/") < 0)
		fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		fatal("/dev/null: %s", strerror(errno));
	dup2(fd, 0);
	if (logfd != 1)
		dup2(fd, 1);
	if (logfd != 2)
		dup2(fd, 2);
	close(fd);
}

/* Started with stdin, stdout or stderr closed, the first files poni
 * opens would take their numbers, and a log line meant for stderr could
 * land in the self-pipe or an inotify fd: hold them with /dev/null. */
static void std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			_exit(1);
}

/* SIGHUP reloads, SIGUSR1 reports, SIGUSR2 syncs everything in full,
 * SIGTERM and SIGINT stop. */
static void on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		daemon_reload();
		break;
	case SIGUSR1:
		daemon_status();
		break;
	case SIGUSR2:
		daemon_full_sync();
		break;
	default:
		daemon_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
}

static int catch_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	size_t i;

	if (loop_init() < 0)
		return -1;
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (loop_signal(sigs[i], on_signal) < 0)
			return -1;
	return 0;
}

int main(int argc, char *argv[])
{
	/* static: absolute() may allocate the paths for the whole run */
	static struct options o = { DEFAULT_CONFIG, NULL, 0, 0, 0, 0, 0, 0 };
	int status, pidfd = -1;
	char err[1024];
	struct config *cfg;

	std_fds();
	if ((status = parse_options(argc, argv, &o)) >= 0)
		return status;

	/* -d changes to /: keep the paths that are read again later
	 * (the config on SIGHUP, the pidfile at exit) absolute */
	if (!(o.config = absolute(o.config)) ||
	    (o.pidfile && !(o.pidfile = absolute(o.pidfile)))) {
		format_fd(2, "poni: cannot find the current directory: %s\n", strerror(errno));
		return 1;
	}
	if (o.status)	/* the running poni's syncs, not the file's */
		return status_query(o.config, o.status == 2);
	if (!(cfg = config_load(o.config, CONFIG_CHECK_FILES, err, sizeof err))) {
		format_fd(2, "poni: %s\n", err);
		return 1;
	}
	if (o.check) {
		status = check_config(cfg);
		config_free(cfg);
		return status;
	}
	if (log_open(cfg->log, o.verbose ? L_DEBUG : cfg->log_level) < 0) {
		format_fd(2, "poni: %s: log %s: %s\n", o.config, cfg->log, strerror(errno));
		config_free(cfg);
		return 1;
	}
	if (o.pidfile && (pidfd = pidfile_lock(o.pidfile)) < 0) {
		config_free(cfg);
		return 1;
	}
	if (o.detach)
		daemonize();
	if (pidfd >= 0) {
		pidfile_write(pidfd);
		pidfile_path = o.pidfile;
	}
	if (catch_signals() < 0)
		fatal("cannot set up signal handling: %s", strerror(errno));

	log_info("poni %s starting: %zu sync%s from %s%s", VERSION, cfg->nsyncs,
	    cfg->nsyncs == 1 ? "" : "s", o.config, o.dry_run ? " (dry run)" : "");
	daemon_start(o.config, cfg, o.dry_run, o.once, o.verbose);
	loop_run();
	status = daemon_finish();
	loop_free();
	log_info("stopped");
	log_close();
	return status;
}
