/* shared_fetch: the table is a list (a worker has a handful of payments in
 * flight at once); each fetch owns its waiters and its copy of the uid, and
 * is freed in one place, after its vendor call answered and every waiter was
 * called. */
#include "shared_fetch.h"

#include "request_id.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct shared_fetch_waiter {
    shared_fetch_cb cb;
    void *data;
    struct shared_fetch_waiter *next;
    request_id caller; /* whose webhook waits: the fetch may be another's */
} shared_fetch_waiter;

struct shared_fetch {
    shared_fetch_table *table;
    vendor_context *vendors;
    const vendor_adapter *adapter;
    const vendor_store *store;
    char *uid;
    bool sent; /* the vendor call is out: newcomers wait for the next fetch */
    shared_fetch_waiter *waiters, **last_waiter;
    shared_fetch *previous, *next;
};

static bool fetch_is_for(const shared_fetch *fetch, const vendor_adapter *adapter, const vendor_store *store,
                         const char *uid)
{
    return fetch->adapter == adapter && fetch->store == store && strcmp(fetch->uid, uid) == 0;
}

/* The fetch of that payment not sent yet, or NULL. */
static shared_fetch *table_find_waiting(shared_fetch_table *table, const vendor_adapter *adapter,
                                        const vendor_store *store, const char *uid)
{
    for (shared_fetch *fetch = table->fetches; fetch; fetch = fetch->next)
        if (!fetch->sent && fetch_is_for(fetch, adapter, store, uid))
            return fetch;
    return NULL;
}

static bool table_has_sent(const shared_fetch_table *table, const vendor_adapter *adapter, const vendor_store *store,
                           const char *uid)
{
    for (const shared_fetch *fetch = table->fetches; fetch; fetch = fetch->next)
        if (fetch->sent && fetch_is_for(fetch, adapter, store, uid))
            return true;
    return false;
}

static void table_unlink(shared_fetch *fetch)
{
    if (fetch->previous)
        fetch->previous->next = fetch->next;
    else
        fetch->table->fetches = fetch->next;
    if (fetch->next)
        fetch->next->previous = fetch->previous;
}

static void fetch_send(shared_fetch *fetch);

static void on_vendor_answer(vendor_payment *payment, const app_error *err, void *data)
{
    shared_fetch *fetch = data;
    table_unlink(fetch);
    /* The next round goes out now, for those who came during this one; it
     * may even answer before the loop below if the vendor context is shut. */
    shared_fetch *next = table_find_waiting(fetch->table, fetch->adapter, fetch->store, fetch->uid);
    if (next)
        fetch_send(next);
    shared_fetch_waiter *waiter = fetch->waiters;
    while (waiter) {
        shared_fetch_waiter *after = waiter->next;
        request_id saved;
        request_id_enter(&waiter->caller, &saved);
        waiter->cb(payment, err, waiter->data);
        request_id_restore(&saved);
        free(waiter);
        waiter = after;
    }
    vendor_payment_free(payment);
    free(fetch->uid);
    free(fetch);
}

static void fetch_send(shared_fetch *fetch)
{
    fetch->sent = true;
    fetch->adapter->fetch(fetch->vendors, fetch->store, fetch->uid, on_vendor_answer, fetch);
}

static shared_fetch *fetch_new(shared_fetch_table *table, vendor_context *vendors, const vendor_adapter *adapter,
                               const vendor_store *store, const char *uid)
{
    shared_fetch *fetch = calloc(1, sizeof *fetch);
    char *copy = fetch ? strdup(uid) : NULL;
    if (!copy) {
        free(fetch);
        return NULL;
    }
    *fetch = (shared_fetch){.table = table, .vendors = vendors, .adapter = adapter, .store = store, .uid = copy};
    fetch->last_waiter = &fetch->waiters;
    fetch->next = table->fetches;
    if (fetch->next)
        fetch->next->previous = fetch;
    table->fetches = fetch;
    return fetch;
}

void shared_fetch_join(shared_fetch_table *table, vendor_context *vendors, const vendor_adapter *adapter,
                       const vendor_store *store, const char *uid, shared_fetch_cb cb, void *data)
{
    shared_fetch *fetch = table_find_waiting(table, adapter, store, uid);
    bool created = !fetch;
    if (created)
        fetch = fetch_new(table, vendors, adapter, store, uid);
    shared_fetch_waiter *waiter = fetch ? calloc(1, sizeof *waiter) : NULL;
    if (!waiter) {
        if (fetch && created) {
            table_unlink(fetch);
            free(fetch->uid);
            free(fetch);
        }
        app_error err;
        app_error_set(&err, 500, "out of memory asking the vendor");
        cb(NULL, &err, data);
        return;
    }
    *waiter = (shared_fetch_waiter){.cb = cb, .data = data};
    request_id_capture(&waiter->caller);
    *fetch->last_waiter = waiter;
    fetch->last_waiter = &waiter->next;
    /* A new fetch waits while one for the same payment is out; the answer
     * of that one starts it. */
    if (created && !table_has_sent(table, adapter, store, uid))
        fetch_send(fetch);
}
