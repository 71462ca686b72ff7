# smtpscope - build, test, demo, install.
#
#   make            optimised build: build/smtpscope
#   make check      sanitizer build (ASan+UBSan) and every test; ends with
#                   "N passed, N failed"
#   make demo       the seed 000 (FrontBridge pipelining) sample, analysed
#   make install    PREFIX=/usr/local: the binary, the man page, and in
#                   share/doc/smtpscope the rule catalogue, the JSON schema,
#                   the interface contract the man page points to, and the
#                   service examples of docs/service (systemd unit,
#                   logrotate, rsyslog; the unit names the installed binary)
#   make uninstall  removes what make install installed
#   make fuzz       fuzz targets (clang, libFuzzer), bounded run
#   make bench      the benchmark (see bench/README.md)
#   make docs       docs/rules.md from src/common/rules.def and docs/rules-notes.md
#
# Sources are found by layer: src/<layer>/*.c. src/app/main.c holds main();
# everything else goes into a static library the tests link against.

# Objects build on every core; the tests themselves run one suite at a time.
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)

CC      ?= cc
PREFIX  ?= /usr/local
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
DEFS    := -D_GNU_SOURCE -DSC_VERSION='"$(VERSION)"'
INCS    := -Isrc
LIBS    := -lnids -lpcap -lncursesw -lz -lcrypto -lm

# The optimised build is linked whole (link-time optimisation) where the
# compiler can: a packet goes through many small functions across the
# layers (reader, reassembly, machines, sinks), and inlining across files
# takes 4.5 % of the instructions off a gateway capture (docs/performance.md).
# Its objects then need the compiler's ar, which indexes their symbols.
LTO     := $(shell $(CC) -flto=auto -x c -c -o /dev/null /dev/null 2>/dev/null && echo -flto=auto)
AR_REL  := $(if $(LTO),$(shell command -v gcc-ar 2>/dev/null || echo ar),ar)

CFLAGS_REL  := -O2 -g $(LTO) $(WARN) $(DEFS) $(INCS)
CFLAGS_SAN  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined $(WARN) $(DEFS) $(INCS)

SRC_LIB := $(sort $(filter-out src/app/main.c,$(wildcard src/*/*.c)))
HDRS    := $(wildcard src/*/*.h src/*/*.def)
TEST_SRC := $(sort $(wildcard tests/unit/*.c))

REL_OBJ := $(SRC_LIB:%.c=build/rel/%.o)
SAN_OBJ := $(SRC_LIB:%.c=build/san/%.o)

.PHONY: all check demo install uninstall clean fuzz bench tests-build docs

all: build/smtpscope

build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) $(CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -c -o $@ $<

build/rel/libsmtpscope.a: $(REL_OBJ)
	@rm -f $@
	$(AR_REL) rcs $@ $^

build/san/libsmtpscope.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/smtpscope: build/rel/src/app/main.o build/rel/libsmtpscope.a
	$(CC) $(CFLAGS_REL) $(LDFLAGS) -o $@ $^ $(LIBS)

build/san/smtpscope: build/san/src/app/main.o build/san/libsmtpscope.a
	$(CC) $(CFLAGS_SAN) -o $@ $^ $(LIBS)

build/san/tests/%: tests/unit/%.c tests/unit/*.h build/san/libsmtpscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -Itests/unit -o $@ $< build/san/libsmtpscope.a $(LIBS)

tests-build: build/smtpscope build/san/smtpscope $(TEST_SRC:tests/unit/%.c=build/san/tests/%)

check: tests-build
	@tests/run.sh

# Exit status 1 means "findings" (the sample is made to have them).
demo: build/smtpscope
	./build/smtpscope -r samples/seed000-frontbridge-pipelining.pcap; \
	    rc=$$?; [ $$rc -le 1 ]

# docs/rules.md: the catalogue's table (from src/common/rules.def), then the
# notes kept by hand in docs/rules-notes.md.
docs: build/smtpscope
	{ ./build/smtpscope --rules --markdown && cat docs/rules-notes.md; } > docs/rules.md.tmp
	mv docs/rules.md.tmp docs/rules.md

DOCDIR  ?= $(PREFIX)/share/doc/smtpscope
DOCS    := docs/rules.md docs/json-schema.md docs/smtpscope.schema.json docs/interface.md
EXAMPLES := docs/service/smtpscope.logrotate docs/service/rsyslog-smtpscope.conf

install: build/smtpscope
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(DOCDIR)
	install -m 0755 build/smtpscope $(DESTDIR)$(PREFIX)/bin/smtpscope
	sed 's|@DOCDIR@|$(DOCDIR)|g' docs/smtpscope.1 > $(DESTDIR)$(PREFIX)/share/man/man1/smtpscope.1
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man1/smtpscope.1
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/examples
	sed 's|/usr/local/bin/smtpscope|$(PREFIX)/bin/smtpscope|' docs/service/smtpscope.service \
	    >$(DESTDIR)$(DOCDIR)/examples/smtpscope.service
	chmod 0644 $(DESTDIR)$(DOCDIR)/examples/smtpscope.service
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/smtpscope $(DESTDIR)$(PREFIX)/share/man/man1/smtpscope.1
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rm -f $(DESTDIR)$(DOCDIR)/examples/smtpscope.service $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

fuzz:
	@$(MAKE) -f tests/fuzz/Makefile run

bench: build/smtpscope
	bench/run.sh

clean:
	rm -rf build
