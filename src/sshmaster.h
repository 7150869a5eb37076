/* poni's own OpenSSH master connections: one per (ssh program, user,
 * host, port, key, host key policy), shared by every sync with those
 * settings, so that an rsync run over ssh skips the ssh handshake. The
 * event loop reaps them, restarts a dead one with back-off, and stops
 * them at exit. Dropbear's dbclient has no master mode: none for it. */
#ifndef PONI_SSHMASTER_H
#define PONI_SSHMASTER_H

#include <stdbool.h>
#include <sys/select.h>
#include <sys/types.h>

#include "config.h"

/* The control socket for s's connection, starting its master if there
 * is none yet; NULL when s gets no master (dbclient, or no private
 * directory for the socket). rsync works without: ssh then connects on
 * its own. Pair with master_release. */
const char *master_acquire(const struct sync_conf *s);
void master_release(const char *socket);

/* For the event loop. */
void master_add_fds(fd_set *set, int *maxfd);
void master_read(const fd_set *ready);
bool master_reaped(pid_t pid, int status, long long now);
long long master_next_due(void);	/* -1: none */
void master_on_due(long long now);
/* Stop every master, wait for them (bounded), remove the sockets' dir. */
void master_shutdown(void);

#endif
