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
#define FXP_LSTAT 7
#define FXP_MKDIR 14
#define FXP_RENAME 18
#define FXP_STATUS 101
#define FXP_ATTRS 105
#define FX_OK 0
#define FX_NO_SUCH_FILE 2
/* ATTRS: which fields follow its flags */
#define ATTR_SIZE 0x1
#define ATTR_UIDGID 0x2
#define ATTR_PERMISSIONS 0x4

char **sftp_argv(const struct sync_conf *s, const char *control)
{
	const char *const master[] = { "-S", control, "-o", "ControlMaster=no", "-s", NULL };
	const char *const plain[] = { "-s", NULL };

	/* -s: "sftp" is the subsystem's name */
	return ssh_argv(s, ssh_is_openssh(s->ssh) && control ? master : plain, s->remote_host,
	    "sftp");
}

static void set_u32(char *p, size_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static void put_u32(struct buf *b, size_t v)
{
	char c[4];

	set_u32(c, v);
	buf_add(b, c, 4);
}

/* dir/name as an SFTP string */
static void put_path(struct buf *b, const char *dir, const char *name)
{
	size_t dlen = strlen(dir);
	bool slash = *name && dlen && dir[dlen - 1] != '/';

	put_u32(b, dlen + slash + strlen(name));
	buf_add(b, dir, dlen);
	if (slash)
		buf_addc(b, '/');
	buf_adds(b, name);
}

/* A packet's length (patched by end()), type and id; returns where it
 * starts. */
static size_t begin(struct buf *b, int type, size_t id)
{
	size_t at = b->len;

	put_u32(b, 0);
	buf_addc(b, (char)type);
	put_u32(b, id);
	return at;
}

static void end(struct buf *b, size_t at)
{
	set_u32(b->s + at, b->len - at - 4);
}

void sftp_init(struct buf *b)
{
	end(b, begin(b, FXP_INIT, 3));	/* INIT's "id" is the version */
}

void sftp_lstat(struct buf *b, size_t id, const char *dir, const char *name)
{
	size_t at = begin(b, FXP_LSTAT, id);

	put_path(b, dir, name);
	end(b, at);
}

void sftp_mkdir(struct buf *b, size_t id, const char *dir, const char *name, unsigned mode)
{
	size_t at = begin(b, FXP_MKDIR, id);

	put_path(b, dir, name);
	put_u32(b, ATTR_PERMISSIONS);
	put_u32(b, mode);
	end(b, at);
}

void sftp_rename(struct buf *b, size_t id, const char *dir, const char *from, const char *to)
{
	size_t at = begin(b, FXP_RENAME, id);

	put_path(b, dir, from);
	put_path(b, dir, to);
	end(b, at);
}

void sftp_answers_init(struct sftp_answers *a, enum sftp_question question, bool version,
    bool *ok, size_t n)
{
	memset(a, 0, sizeof *a);
	a->ok = ok;
	a->n = n;
	a->question = question;
	a->version = !version;
	a->state = a->version && !n;
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
	if (a->missing)
		memset(a->missing, 0, a->n * sizeof *a->missing);
	return a->state = -1;
}

/* ATTRS (after the id, len bytes): the type of a directory. */
static bool attrs_dir(const unsigned char *p, size_t len)
{
	unsigned long flags;
	size_t at = 4;

	if (len < 4)
		return false;
	flags = get_u32(p);
	if (flags & ATTR_SIZE)
		at += 8;
	if (flags & ATTR_UIDGID)
		at += 8;
	return flags & ATTR_PERMISSIONS && len >= at + 4 &&
	    (get_u32(p + at) & 0170000) == 0040000;
}

/* One whole packet, without its length: its type and fields. */
static int take(struct sftp_answers *a, const unsigned char *p, size_t len)
{
	if (!a->version) {	/* VERSION 3, its extensions ignored */
		if (p[0] != FXP_VERSION || len < 5 || get_u32(p + 1) != 3)
			return bad(a);
		a->version = true;
		return a->state = a->answered == a->n;
	}
	/* STATUS: id, code, message, language; ATTRS: id, attributes */
	if (len < 5 || get_u32(p + 1) != a->answered || a->answered >= a->n)
		return bad(a);
	if (p[0] == FXP_STATUS && len >= 9) {
		if (a->missing && a->question == SFTP_IS_DIR)
			a->missing[a->answered] = get_u32(p + 5) == FX_NO_SUCH_FILE;
		a->ok[a->answered++] = a->question == SFTP_RENAMED && get_u32(p + 5) == FX_OK;
	}
	else if (p[0] == FXP_ATTRS && a->question == SFTP_IS_DIR)
		a->ok[a->answered++] = attrs_dir(p + 5, len - 5);
	else
		return bad(a);
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
