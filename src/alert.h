/* on_state: a command of the user's, run (no shell) when a sync turns
 * from in step to failing or waiting, and when it is in step again; its
 * output is logged, its time bounded. */
#ifndef PONI_ALERT_H
#define PONI_ALERT_H

/* Start argv for the sync named label, with env ("KEY=VALUE" strings,
 * NULL-terminated) added to poni's environment for it. */
void alert_run(const char *label, char *const argv[], char *const env[]);
/* poni stops: SIGTERM to every running command, SIGKILL a second later. */
void alert_stop_all(void);

#endif
