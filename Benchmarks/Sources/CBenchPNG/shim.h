// libpng's simplified write API (png_image_write_to_memory), used by the
// benchmarks to write seeded PNGs; it catches libpng's longjmp itself.
#include <png.h>

static const unsigned int bench_png_format_rgb = PNG_FORMAT_RGB;
static const unsigned int bench_png_image_version = PNG_IMAGE_VERSION;
