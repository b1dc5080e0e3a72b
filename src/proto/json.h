/* SPDX-License-Identifier: MIT */
/* json.h: the JSON reader and writer are public (chanwire.h); this header
 * only gives src/ the same declarations under the module's name. */
#ifndef CW_JSON_H
#define CW_JSON_H

#include "chanwire.h"

#endif
