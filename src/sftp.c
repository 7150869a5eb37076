/* SFTP version 3, the part poni needs: renames.
 *
 * Every packet is a uint32 length (of what follows), a type byte and
 * the type's fields; integers are big-endian, a string is a uint32
 * length and its bytes. poni sends INIT and RENAMEs, and reads VERSION
 * and one STATUS per RENAME. */
#include <string.h>

#include "rsync.h"
#include "sftp.h"

#define FXP_INIT 1
#define FXP_VERSION 2
#define FXP_RENAME 18
#define FXP_STATUS 101
#define FX_OK 0

char **sftp_argv(const struct sync_conf *s, const char *control)
{
	const char *const master[] = { "-S", control, "-o", "ControlMaster=no", "-s", NULL };
	const char *const plain[] = { "-s", NULL };
	bool openssh = ssh_is_openssh(s->ssh);
	char **argv = ssh_argv(s, openssh && control ? master : plain);
	size_t n;

	for (n = 0; argv[n]; n++)
		;
	argv = xrealloc(argv, (n + 4) * sizeof *argv);
	if (openssh)	/* the host is never an option (dbclient has no --) */
		argv[n++] = xstrdup("--");
	argv[n++] = xstrdup(s->remote_host);
	argv[n++] = xstrdup("sftp");	/* -s: the subsystem's name */
	argv[n] = NULL;
	return argv;
}

static void put_u32(struct buf *b, size_t v)
{
	char c[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };

	buf_add(b, c, 4);
}

static size_t path_len(const char *dir, const char *name)
{
	size_t dlen = strlen(dir);

	return dlen + (*name && dlen && dir[dlen - 1] != '/') + strlen(name);
}

/* dir/name as an SFTP string */
static void put_path(struct buf *b, const char *dir, const char *name)
{
	size_t dlen = strlen(dir);

	put_u32(b, path_len(dir, name));
	buf_add(b, dir, dlen);
	if (*name && dlen && dir[dlen - 1] != '/')
		buf_addc(b, '/');
	buf_adds(b, name);
}

void sftp_requests(struct buf *b, const char *dir, char *const from[], char *const to[],
    size_t n)
{
	size_t i;

	put_u32(b, 5);
	buf_addc(b, FXP_INIT);
	put_u32(b, 3);
	for (i = 0; i < n; i++) {
		put_u32(b, 1 + 4 + 4 + path_len(dir, from[i]) + 4 + path_len(dir, to[i]));
		buf_addc(b, FXP_RENAME);
		put_u32(b, i);
		put_path(b, dir, from[i]);
		put_path(b, dir, to[i]);
	}
}

void sftp_answers_init(struct sftp_answers *a, bool *ok, size_t n)
{
	memset(a, 0, sizeof *a);
	a->ok = ok;
	a->n = n;
	memset(ok, 0, n * sizeof *ok);
}

static unsigned long get_u32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

static int bad(struct sftp_answers *a)
{
	memset(a->ok, 0, a->n * sizeof *a->ok);
	return a->state = -1;
}

/* One whole packet, without its length: its type and fields. */
static int take(struct sftp_answers *a, const unsigned char *p, size_t len)
{
	if (!a->version) {	/* VERSION 3, its extensions ignored */
		if (p[0] != FXP_VERSION || len < 5 || get_u32(p + 1) != 3)
			return bad(a);
		a->version = true;
	} else {
		/* STATUS: id, code, message, language. A server may answer
		 * out of order; OpenSSH's answers one request after the
		 * other, and poni takes them so: any other order counts as
		 * no answer, which costs a transfer, never a wrong replica */
		if (p[0] != FXP_STATUS || len < 9 || get_u32(p + 1) != a->answered ||
		    a->answered >= a->n)
			return bad(a);
		a->ok[a->answered++] = get_u32(p + 5) == FX_OK;
	}
	return a->state = a->answered == a->n;
}

int sftp_answers_feed(struct sftp_answers *a, const void *data, size_t len)
{
	const unsigned char *in = data;
	size_t want, take_now;
	unsigned long plen;

	while (len && a->state >= 0) {
		if (a->state == 1)	/* nothing may follow the last answer */
			return bad(a);
		/* the length first, then as many bytes as it says */
		want = a->have < 4 ? 4 : 4 + (size_t)get_u32(a->pkt);
		take_now = want - a->have < len ? want - a->have : len;
		memcpy(a->pkt + a->have, in, take_now);
		a->have += take_now;
		in += take_now;
		len -= take_now;
		if (a->have < want)
			break;
		if (a->have == 4) {
			plen = get_u32(a->pkt);
			if (plen < 1 || plen > SFTP_MAX_PACKET)
				return bad(a);
			continue;
		}
		a->have = 0;
		if (take(a, a->pkt + 4, want - 4) < 0)
			break;
	}
	return a->state;
}

int sftp_answers_end(struct sftp_answers *a)
{
	if (a->state == 1 && a->have == 0)
		return 1;
	return bad(a);
}
