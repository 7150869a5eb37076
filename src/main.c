/* poni: command line and start-up. Reads the config, then hands the
 * syncs to the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "sync.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static void usage(int fd)
{
	format_fd(fd,
	    "usage: poni [-c FILE] [-t] [-n] [-1] [-d] [-p PIDFILE] [-v] [-V] [-h]\n"
	    "  -c, --config FILE    config file (default %s)\n"
	    "  -t, --check          check the config, print each sync, exit\n"
	    "  -n, --dry-run        log the rsync command lines instead of running them\n"
	    "  -1, --once           run every sync once, then exit\n"
	    "  -d, --daemon         detach into the background\n"
	    "  -p, --pidfile FILE   write the pid there (locked; removed at exit)\n"
	    "  -v, --verbose        debug logging\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           this help\n", DEFAULT_CONFIG);
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

static void pidfile_remove(void)
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

/* Detach: fork, new session, fork again; cwd /, stdin on /dev/null, and
 * stdout/stderr too unless the log goes there. */
static void daemonize(void)
{
	int fd, logfd = log_fd();
	pid_t pid;

	if ((pid = fork()) < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid: %s", strerror(errno));
	if ((pid = fork()) < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
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

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	/* static: absolute() may allocate them for the whole run */
	static const char *config_path = DEFAULT_CONFIG, *pidfile;
	int check = 0, dry_run = 0, once = 0, detach = 0, verbose = 0;
	int opt, status, pidfd = -1;
	char err[1024];
	struct config *cfg;
	struct daemon d = { 0 };

	while ((opt = getopt_long(argc, argv, "c:tn1dp:vVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 't': check = 1; break;
		case 'n': dry_run = 1; break;
		case '1': once = 1; break;
		case 'd': detach = 1; break;
		case 'p': pidfile = optarg; break;
		case 'v': verbose = 1; break;
		case 'V':
			format_fd(1, "poni %s\n", VERSION);
			return 0;
		case 'h':
			usage(1);
			return 0;
		default:
			usage(2);
			return 2;
		}
	}
	if (optind < argc) {
		format_fd(2, "poni: unexpected argument '%s'\n", argv[optind]);
		usage(2);
		return 2;
	}

	/* -d changes to /: keep the paths that are read again later
	 * (the config on SIGHUP, the pidfile at exit) absolute */
	if (!(config_path = absolute(config_path)) || (pidfile && !(pidfile = absolute(pidfile)))) {
		format_fd(2, "poni: cannot find the current directory: %s\n", strerror(errno));
		return 1;
	}
	if (!(cfg = config_load(config_path, CONFIG_CHECK_FILES, err, sizeof err))) {
		format_fd(2, "poni: %s\n", err);
		return 1;
	}
	if (check) {
		status = check_config(cfg);
		config_free(cfg);
		return status;
	}
	if (log_open(cfg->log, verbose ? L_DEBUG : cfg->log_level) < 0) {
		format_fd(2, "poni: %s: log %s: %s\n", config_path, cfg->log, strerror(errno));
		config_free(cfg);
		return 1;
	}
	if (pidfile && (pidfd = pidfile_lock(pidfile)) < 0) {
		config_free(cfg);
		return 1;
	}
	if (detach)
		daemonize();
	if (pidfd >= 0) {
		pidfile_write(pidfd);
		pidfile_path = pidfile;
		atexit(pidfile_remove);
	}
	if (loop_init() < 0)
		fatal("cannot set up signal handling: %s", strerror(errno));

	log_info("poni %s starting: %zu sync%s from %s%s", VERSION, cfg->nsyncs,
	    cfg->nsyncs == 1 ? "" : "s", config_path, dry_run ? " (dry run)" : "");
	d.config_path = config_path;
	d.dry_run = dry_run;
	d.once = once;
	d.verbose = verbose;
	daemon_set_config(&d, cfg);
	status = loop_run(&d);
	daemon_free(&d);
	log_info("stopped");
	log_close();
	return status;
}
