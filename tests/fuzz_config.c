/* libFuzzer target: the YAML-subset parser, the INI front end (when
 * built with inih) and the config builder and validator behind them, on
 * any bytes. Built and run by tests/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "../src/config.h"
#include "../src/config_ini.h"
#include "../src/config_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_builder *b = config_builder_new("fuzz.conf");
	const char *text = (const char *)data;
	int rc;

	/* the front end poni would choose for a file named *.conf */
	rc = config_is_ini("fuzz.conf", text, size) ? config_ini_feed(b, text, size) :
	    config_yaml_feed(b, text, size);
	/* no file checks: they would only test the file system */
	if (rc == 0)
		config_free(config_finish(b, 0));
	config_builder_free(b);
	return 0;
}
