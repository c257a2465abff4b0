/*
 * shim.h — PCRE2 with 8-bit code units (UTF-8), for analyzer.regex.
 */
#ifndef TRELLIS_PCRE2_SHIM_H
#define TRELLIS_PCRE2_SHIM_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#endif
