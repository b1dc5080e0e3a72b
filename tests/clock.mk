# SPDX-License-Identifier: MIT
# tests/clock.mk: the daemon with its wall clock moved (included by the
# Makefile): $(B)/tests/chanwired-clock is the daemon linked with
# tests/lib/clock_shift.c wrapped around clock_gettime (and glibc's
# __clock_gettime64, its name under _TIME_BITS=64), so CW_CLOCK_SHIFT=<secs>
# moves CLOCK_REALTIME for it alone. tests/integration/test_y2038.py runs it
# past 2038 on every board (qemu-user included: the wrap is link-time, so
# static and cross builds are moved too). Built with `make` (tests).
CLOCK_WRAP := -Wl,--wrap=clock_gettime,--wrap=__clock_gettime64
DAEMON_CLOCK := $(B)/tests/chanwired-clock

tests: $(DAEMON_CLOCK)

$(DAEMON_CLOCK): $(DAEMON_OBJS) $(B)/obj/tests/lib/clock_shift.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(CLOCK_WRAP) -o $@ $(DAEMON_OBJS) $(B)/obj/tests/lib/clock_shift.o \
	  $(LIB) $(EXTRA_LIBS)
