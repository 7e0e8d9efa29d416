// libjpeg-turbo's TurboJPEG API, used by the benchmarks to write seeded JPEGs
// (Debian: libturbojpeg0-dev). Errors come back as return codes.
#include <stddef.h>
#include <turbojpeg.h>
