#include "priority.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

void pmhc_priority_background(const char *what)
{
	/* Linux keeps a nice value per thread: PRIO_PROCESS with a thread id sets that thread's alone. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PMHC_BACKGROUND_NICE) != 0)
		pmhc_debug("msg=\"cannot lower a background thread's priority\" thread=\"%s\" error=\"%s\"", what,
			   strerror(errno));
}

static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type, const char *name, void *opaque)
{
	(void)rk;
	(void)type;
	(void)opaque;
	pmhc_priority_background(name);
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque, char *errstr,
				  size_t errstr_size)
{
	(void)conf;
	(void)errstr;
	(void)errstr_size;
	return rd_kafka_interceptor_add_on_thread_start(rk, "pmhc-background", on_thread_start, opaque);
}

void pmhc_priority_background_kafka(rd_kafka_conf_t *conf)
{
	rd_kafka_conf_interceptor_add_on_new(conf, "pmhc-background", on_new, NULL);
}
