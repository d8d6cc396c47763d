/* The one error type and the HTTP reason phrases it is shown with. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void app_error_set(app_error *err, int status, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = status;
    err->vendor = (app_error_vendor){0};
    err->retry_after_s = 0;
    err->not_sent = false;
    err->outcome_unknown = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

int error_format(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void app_error_set_vendor(app_error *err, const char *code, const char *vendor_code, int http_status,
                          const char *message)
{
    if (!err)
        return;
    snprintf(err->vendor.code, sizeof err->vendor.code, "%s", code ? code : "");
    snprintf(err->vendor.vendor_code, sizeof err->vendor.vendor_code, "%s", vendor_code ? vendor_code : "");
    err->vendor.status = http_status;
    snprintf(err->vendor.message, sizeof err->vendor.message, "%s", message ? message : "");
}

void app_error_clear(app_error *err)
{
    err->status = 0;
    err->message[0] = '\0';
    err->vendor = (app_error_vendor){0};
    err->retry_after_s = 0;
    err->not_sent = false;
    err->outcome_unknown = false;
}

const char *http_status_reason(int status)
{
    /* One status a line reads as the table it is. */
    /* clang-format off */
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
    /* clang-format on */
}
