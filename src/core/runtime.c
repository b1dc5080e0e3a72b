/* runtime.c: the storage of the run-time options and counters (runtime.h). */
#include "core/runtime.h"

struct cw_runtime cw_rt = {.www_fd = -1};
