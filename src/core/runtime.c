/* SPDX-License-Identifier: MIT */
/* runtime.c: the storage of the run-time options and counters (runtime.h). */
#include "core/runtime.h"

/* Zeroed (.bss): cw_server_init fills it in, www_fd included. */
struct cw_runtime cw_rt;
