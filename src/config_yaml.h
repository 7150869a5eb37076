/* The YAML front end of the config builder. */
#ifndef PONI_CONFIG_YAML_H
#define PONI_CONFIG_YAML_H

#include <stddef.h>

#include "config.h"

/* Parse buf as the YAML subset and feed it to b. 0, or -1 with the
 * error recorded in b. */
int config_yaml_feed(struct config_builder *b, const char *buf, size_t len);

#endif
