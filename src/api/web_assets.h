/* The dashboard's static files (web/), compiled into the server by
 * tools/embed_web.c: each as it is and gzip-compressed, with an ETag. */
#ifndef EVOCLAW_API_WEB_ASSETS_H
#define EVOCLAW_API_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *name;         /* file name in web/ ("app.js") */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	const unsigned char *gzip; /* the same, gzip-compressed */
	size_t gzip_len;
	const char *etag;         /* quoted, as the header carries it */
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
