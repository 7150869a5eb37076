/* poni -s, both ends: the daemon's abstract unix socket (see status.h)
 * and the client that asks it. The daemon never waits for a client: it
 * writes what the socket takes, and the rest as the client reads it
 * (POLLOUT), giving up after STATUS_TIMEOUT_MS. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "format.h"
#include "loop.h"
#include "status.h"

#define STATUS_CLIENTS 8
#define STATUS_TIMEOUT_MS 5000

struct client {
	struct loop_fd fd;
	struct loop_timer timer;
	struct buf out;
	size_t sent;
};

/* zero until status_serve listens: in .bss, no bytes of the binary */
static struct {
	struct loop_fd listen;
	void (*fill)(struct buf *out);	/* set while it listens */
	struct client clients[STATUS_CLIENTS];
} srv;

/* "\0poni/HASH": the config's real path, hashed (FNV-1a, 64 bits). */
static socklen_t address(const char *config_path, struct sockaddr_un *sa)
{
	char *real = realpath(config_path, NULL);
	const char *p = real ? real : config_path;
	unsigned long long h = 14695981039346656037ull;
	int len;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	free(real);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	len = format(sa->sun_path + 1, sizeof sa->sun_path - 1, "poni/%016llx", h);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

static void client_close(struct client *c)
{
	loop_fd_remove(&c->fd);
	loop_timer_cancel(&c->timer);
	close(c->fd.fd);
	c->fd.fd = -1;
	buf_free(&c->out);
	c->sent = 0;
}

/* Send what the socket takes; closed when all is sent or it fails. */
static void client_send(struct client *c)
{
	ssize_t n;

	while (c->sent < c->out.len) {
		n = send(c->fd.fd, c->out.s + c->sent, c->out.len - c->sent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->fd.events = POLLOUT;
			loop_fd_add(&c->fd);
			return;
		}
		if (n <= 0)
			break;
		c->sent += (size_t)n;
	}
	client_close(c);
}

static void on_client(struct loop_fd *f, short revents)
{
	(void)revents;
	client_send(container_of(f, struct client, fd));
}

static void on_client_timeout(struct loop_timer *t)
{
	client_close(container_of(t, struct client, timer));
}

static void on_accept(struct loop_fd *f, short revents)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct client *c = NULL;
	size_t i;
	int fd;

	(void)revents;
	if ((fd = accept4(f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	for (i = 0; i < STATUS_CLIENTS && !c; i++)
		if (srv.clients[i].fd.fd < 0)
			c = &srv.clients[i];
	/* root, or poni's own user: the state names paths and errors */
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		close(fd);
		return;
	}
	c->fd.fd = fd;
	c->fd.cb = on_client;
	c->timer.cb = on_client_timeout;
	loop_timer_set(&c->timer, now_ms() + STATUS_TIMEOUT_MS);
	srv.fill(&c->out);
	client_send(c);
}

void status_serve(const char *config_path, void (*fill)(struct buf *out))
{
	struct sockaddr_un sa;
	socklen_t len = address(config_path, &sa);
	size_t i;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	for (i = 0; i < STATUS_CLIENTS; i++)
		srv.clients[i].fd.fd = -1;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, STATUS_CLIENTS) < 0) {
		log_warn("poni -s will not reach this poni: %s%s", strerror(errno),
		    errno == EADDRINUSE ? " (another poni runs with this config)" : "");
		if (fd >= 0)
			close(fd);
		return;
	}
	srv.fill = fill;
	srv.listen.fd = fd;
	srv.listen.events = POLLIN;
	srv.listen.cb = on_accept;
	loop_fd_add(&srv.listen);
}

void status_stop(void)
{
	size_t i;

	if (!srv.fill)
		return;
	for (i = 0; i < STATUS_CLIENTS; i++)
		if (srv.clients[i].fd.fd >= 0)
			client_close(&srv.clients[i]);
	loop_fd_remove(&srv.listen);
	close(srv.listen.fd);
	srv.fill = NULL;
}

void status_add_value(struct buf *out, const char *key, const char *value)
{
	struct buf esc = { 0 };
	const char *p;

	buf_add_escaped(&esc, value);
	buf_addf(out, "%s%s='", out->len && out->s[out->len - 1] != '\n' ? " " : "", key);
	for (p = esc.s ? esc.s : ""; *p; p++)
		if (*p == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addc(out, *p);
	buf_addc(out, '\'');
	buf_free(&esc);
}

/* --- the client ---------------------------------------------------------- */

/* The next KEY=VALUE of a line (the value unquoted in place); 0 at its
 * end. */
static int next_pair(char **line, char **key, char **value)
{
	char *p = *line, *out;

	while (*p == ' ')
		p++;
	if (!*p || !strchr(p, '='))
		return 0;
	*key = p;
	p = strchr(p, '=');
	*p++ = '\0';
	*value = out = p;
	while (*p && *p != ' ') {
		if (*p != '\'') {
			*out++ = *p++;
			continue;
		}
		for (p++; *p && *p != '\''; )
			*out++ = *p++;
		if (*p)
			p++;
	}
	if (*p)
		p++;
	*out = '\0';
	*line = p;
	return 1;
}

bool status_state_bad(const char *state)
{
	return strcmp(state, "backing_off") == 0 || strcmp(state, "failing") == 0 ||
	    strncmp(state, "waiting", 7) == 0;
}

/* The keys of a line that poni -s reads, and each one's value when the
 * line has none. */
enum { SOURCE, TARGET, STATE, SINCE, OK, ERROR, PENDING, NKEYS };
static const char *const keys[NKEYS] = {
	"source", "target", "state", "since", "last_ok", "last_error", "pending"
};
static const char *const absent[NKEYS] = { "", "", "", "", "never", "", "0" };

/* One sync's line as a sentence, from its values. */
static void print_human(const char *const v[NKEYS])
{
	/* state words told in other words */
	static const char *const words[][2] = {
		{ "waiting_source", "waiting for the source" },
		{ "waiting_target", "waiting for the target" },
		{ "backing_off", "failed, backing off" },
		{ "in_step", "in step" }
	};
	const char *state = v[STATE];
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(state, words[i][0]) == 0)
			state = words[i][1];
	buf_addf(&b, "%s -> %s: %s", v[SOURCE], v[TARGET], state);
	if (*v[SINCE])
		buf_addf(&b, " since %s", v[SINCE]);
	buf_addf(&b, "; last ok %s", v[OK]);
	if (strcmp(v[PENDING], "0") != 0)
		buf_addf(&b, "; pending: %s%s", v[PENDING],
		    strcmp(v[PENDING], "all") == 0 ? " (a full run)" :
		    strcmp(v[PENDING], "1") == 0 ? " path" : " paths");
	if (*v[ERROR])
		buf_addf(&b, "; last error: %s", v[ERROR]);
	format_fd(1, "%s\n", b.s);
	buf_free(&b);
}

int status_query(const char *config_path, bool machine)
{
	struct sockaddr_un sa;
	socklen_t len = address(config_path, &sa);
	struct pollfd pfd;
	struct buf in = { 0 };
	char chunk[4096], *line, *next, *key, *value;
	const char *v[NKEYS];
	size_t i;
	long long until = now_ms() + 2 * STATUS_TIMEOUT_MS;
	ssize_t n = 1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), status = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
		format_fd(2, "poni: no poni is running with %s\n", config_path);
		if (fd >= 0)
			close(fd);
		return 3;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (n > 0 && now_ms() < until) {
		if (poll(&pfd, 1, (int)(until - now_ms())) <= 0)
			continue;
		if ((n = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(&in, chunk, (size_t)n);
		else if (n < 0 && errno == EINTR)
			n = 1;
	}
	close(fd);
	if (n != 0 || !in.len) {
		format_fd(2, "poni: the poni of %s did not answer (only root and the user it "
		    "runs as may ask)\n", config_path);
		buf_free(&in);
		return 3;
	}
	for (line = in.s; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (machine)
			format_fd(1, "%s\n", line);
		/* the line is unquoted in place */
		memcpy(v, absent, sizeof v);
		while (next_pair(&line, &key, &value))
			for (i = 0; i < NKEYS; i++)
				if (strcmp(key, keys[i]) == 0)
					v[i] = value;
		if (status_state_bad(v[STATE]))
			status = 1;
		if (!machine)
			print_human(v);
	}
	buf_free(&in);
	return status;
}
