/* poni's own OpenSSH master connections: one per (ssh program, user,
 * host, port, key, host key policy), shared by every sync with those
 * settings, so that an rsync run over ssh skips the ssh handshake. The
 * masters register themselves with the event loop: a dead one is
 * restarted with back-off, and each is stopped without blocking.
 * Dropbear's dbclient has no master mode: none for it. */
#ifndef PONI_SSHMASTER_H
#define PONI_SSHMASTER_H

#include "config.h"

/* The control socket for s's connection, starting its master if there
 * is none yet; NULL when s gets no master (dbclient, or no private
 * directory for the socket). rsync works without: ssh then connects on
 * its own. Pair with master_release: a master stops (SIGTERM, SIGKILL a
 * second later) when its last sync lets it go. */
const char *master_acquire(const struct sync_conf *s);
void master_release(const char *socket);
/* poni stops: no more restarts. */
void master_shutdown(void);
/* Stop every master now, whoever uses it. */
void master_stop_all(void);
/* After the loop: remove the sockets' directory. */
void master_cleanup(void);

#endif
