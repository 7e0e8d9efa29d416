// libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev). It reports errors
// through return codes and tjGetErrorStr2, never by jumping out of the caller.
#include <stddef.h>
#include <turbojpeg.h>
