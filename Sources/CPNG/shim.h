// libpng's simplified API (png_image_*), which catches libpng's internal
// longjmp itself and reports failure through return values and the
// png_image's message, so it is safe to call from Swift.
#include <png.h>

static const unsigned int mms_png_format_rgba = PNG_FORMAT_RGBA;
static const unsigned int mms_png_image_version = PNG_IMAGE_VERSION;
static const unsigned int mms_png_image_warning = PNG_IMAGE_WARNING;
static const unsigned int mms_png_image_error = PNG_IMAGE_ERROR;
static const unsigned int mms_png_image_flag_16bit_srgb = PNG_IMAGE_FLAG_16BIT_sRGB;
