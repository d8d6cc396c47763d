/* subscription_schedule: a subscription's schedule as a request gives it,
 * {days: [1, 15, "last"], time: "09:00", time_zone: "Asia/Seoul"}, checked
 * field by field and turned into the parameters of the SQL that computes
 * due instants (payment_subscription_next_due, sql/0009_subscriptions.sql).
 * Whether the zone exists is PostgreSQL's to say, when the row is written. */
#ifndef PAYMENTS_SUBSCRIPTION_SCHEDULE_H
#define PAYMENTS_SUBSCRIPTION_SCHEDULE_H

#include "api_input.h"

#include <stdbool.h>

#define SUBSCRIPTION_ZONE_MAX 64

typedef struct subscription_schedule {
    char days[128];   /* a smallint[] literal, "{1,15}": each day once, sorted */
    bool last_day;    /* "last" was given */
    char time[9];     /* "HH:MM:SS" */
    const char *zone; /* borrowed from the request document */
} subscription_schedule;

/* Reads in.schedule. false with a 400 naming the field (schedule.days,
 * schedule.time, schedule.time_zone). */
bool subscription_schedule_read(const api_input *in, subscription_schedule *out);

#endif
