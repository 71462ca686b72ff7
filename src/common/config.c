/*
 * config.c - defaults of the run's options (src/common/config.h).
 */
#include <string.h>

#include "config.h"

static const uint16_t default_ports[] = { 25, 465, 587, 2525 };

void sc_config_defaults(sc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof default_ports / sizeof default_ports[0]; i++)
        cfg->ports[cfg->nports++] = default_ports[i];
    cfg->profile = SC_PROFILE_RFC5321;
    for (unsigned i = 0; i < SC_RULE_COUNT; i++)
        cfg->rule_enabled[i] = true;
    cfg->min_severity = SC_SEV_INFO;
    cfg->fail_on = SC_SEV_ERROR;
    cfg->max_findings = SC_MAX_FINDINGS_DEFAULT;
    cfg->mode = SC_OUT_TEXT;
    cfg->color = -1;
    cfg->jobs = 1;
    cfg->idle_timeout = 600;
    cfg->max_sessions = 100000;
    cfg->syslog_queue_kib = SC_SYSLOG_QUEUE_KIB_DEFAULT;
}

bool sc_config_is_smtp_port(const sc_config *cfg, uint16_t port)
{
    for (size_t i = 0; i < cfg->nports; i++)
        if (cfg->ports[i] == port)
            return true;
    return false;
}
