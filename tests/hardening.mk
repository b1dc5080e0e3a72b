# SPDX-License-Identifier: MIT
# tests/hardening.mk: fault injection and soak (included by the Makefile).
#
#   $(B)/tests/chanwired-faults   the daemon with tests/lib/faults.c wrapped
#       around its socket calls (recv, sendmsg, send, accept4, sendfile,
#       epoll_wait, poll): CW_FAULT_RATE percent of them (default 10) fail
#       with EINTR/EAGAIN/ECONNABORTED or come back short; CW_FAULT_SEED
#       makes the sequence reproducible. Built with `make` (tests).
#   make check-faults [CW_FAULT_RATE=10] [CW_FAULT_SEED=1]
#       every suite of this board against that daemon (the unit suites do
#       not start one and run as usual); CHECK_ONLY="glob ..." limits them.
#   make soak [SOAK_SECONDS=600] [SOAK_CLIENTS=300]
#       hundreds of clients churning connects, chat messages, rooms and
#       disconnects against the daemon; samples RSS and pools; passes only
#       when RSS is flat after warm-up, pools return to their idle
#       baseline and no client saw a wrong or missing message.

# sendfile64 and __sendmsg64: the names glibc's headers give sendfile (with
# _FILE_OFFSET_BITS=64) and sendmsg (with _TIME_BITS=64 on 32-bit targets);
# wrapping a name nothing calls is harmless (musl, 64-bit sendmsg).
FAULT_WRAP := -Wl,--wrap=recv,--wrap=sendmsg,--wrap=send,--wrap=accept4,--wrap=sendfile \
              -Wl,--wrap=sendfile64,--wrap=__sendmsg64 -Wl,--wrap=epoll_wait,--wrap=poll
DAEMON_FAULTS := $(B)/tests/chanwired-faults

tests: $(DAEMON_FAULTS)

$(DAEMON_FAULTS): $(DAEMON_OBJS) $(B)/obj/tests/lib/faults.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(FAULT_WRAP) -o $@ $(DAEMON_OBJS) $(B)/obj/tests/lib/faults.o \
	  $(LIB) $(EXTRA_LIBS)

.PHONY: check-faults soak
check-faults: all
	@echo "== fault injection: $(DAEMON_FAULTS), CW_FAULT_RATE=$${CW_FAULT_RATE:-10}% CW_FAULT_SEED=$${CW_FAULT_SEED:-1}"
	$(Q)CW_DAEMON=$(abspath $(DAEMON_FAULTS)) CW_FAULTS=1 python3 tests/run.py --build $(B) \
	  --board $(BOARD)$(if $(SANITIZE), --sanitize) $(foreach o,$(CHECK_ONLY),--only '$(o)')

SOAK_SECONDS ?= 600
SOAK_CLIENTS ?= 300
soak: $(DAEMON) $(CLI)
	$(Q)python3 tests/soak/soak.py --daemon $(DAEMON) --seconds $(SOAK_SECONDS) \
	  --clients $(SOAK_CLIENTS)
