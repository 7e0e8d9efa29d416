// liblz4's block API (Debian: liblz4-dev).
#include <lz4.h>
