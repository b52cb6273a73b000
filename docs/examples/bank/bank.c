/*
 * bank.c -- a small libpmemobj program to try pmfit on: a ledger of eight
 * accounts in a 16 MiB pool, changed only by transfers, each one
 * transaction and one pmfit region. Money is conserved by every transfer, so
 * a crash must never leave a pool whose balances do not add up.
 *
 *   bank create POOL              a fresh pool: 8 accounts of 1000
 *   bank transfer POOL N [--bug]  N transfers; --bug leaves the credited
 *                                 account out of the transaction's undo log
 *   bank check POOL               open the pool (libpmemobj rolls back an
 *                                 interrupted transaction), print the ledger,
 *                                 exit 1 unless the balances add up
 *   bank show POOL                print the ledger only (always exit 0), for
 *                                 pmfit's --oracle outputs
 *
 * Build: cc $(npx pmfit cflags) -O2 -Wall bank.c -o bank -lpmemobj
 */
#include <libpmemobj.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmfit.h"

#define ACCOUNTS 8
#define OPENING_BALANCE 1000
#define POOL_BYTES ((size_t)16 << 20)

struct ledger {
	uint64_t transfers;
	int64_t balance[ACCOUNTS];
};

POBJ_LAYOUT_BEGIN(bank);
POBJ_LAYOUT_ROOT(bank, struct ledger);
POBJ_LAYOUT_END(bank);

static PMEMobjpool *
open_pool(const char *path)
{
	PMEMobjpool *pop = pmemobj_open(path, POBJ_LAYOUT_NAME(bank));
	if (pop == NULL)
		fprintf(stderr, "bank: %s: %s\n", path, pmemobj_errormsg());
	return pop;
}

static int
create(const char *path)
{
	PMEMobjpool *pop = pmemobj_create(path, POBJ_LAYOUT_NAME(bank), POOL_BYTES, 0644);
	if (pop == NULL) {
		fprintf(stderr, "bank: %s: %s\n", path, pmemobj_errormsg());
		return 1;
	}
	TOID(struct ledger) root = POBJ_ROOT(pop, struct ledger);
	TX_BEGIN(pop) {
		TX_ADD(root);
		D_RW(root)->transfers = 0;
		for (int i = 0; i < ACCOUNTS; i++)
			D_RW(root)->balance[i] = OPENING_BALANCE;
	}
	TX_END
	pmemobj_close(pop);
	return 0;
}

/* snapshot -- put one account into the running transaction's undo log */
static void
snapshot(TOID(struct ledger) root, int account)
{
	pmemobj_tx_add_range(root.oid, offsetof(struct ledger, balance) + (size_t)account * sizeof(int64_t),
			     sizeof(int64_t));
}

static void
move_money(PMEMobjpool *pop, TOID(struct ledger) root, int from, int to, int64_t amount, int bug)
{
	TX_BEGIN(pop) {
		TX_ADD_FIELD(root, transfers);
		snapshot(root, from);
		if (!bug)
			snapshot(root, to);
		D_RW(root)->balance[from] -= amount;
		D_RW(root)->balance[to] += amount; /* with --bug: not in the undo log */
		D_RW(root)->transfers++;
	}
	TX_END
}

static int
transfer(const char *path, int count, int bug)
{
	PMEMobjpool *pop = open_pool(path);
	if (pop == NULL)
		return 1;
	TOID(struct ledger) root = POBJ_ROOT(pop, struct ledger);
	/* libpmemobj builds its volatile heap state on the first allocation:
	 * hundreds of thousands of instructions. Do it before the regions. */
	struct pobj_action act;
	if (!OID_IS_NULL(pmemobj_reserve(pop, &act, 64, 0)))
		pmemobj_cancel(pop, &act, 1);
	for (int i = 0; i < count; i++) {
		pmfit_region_begin();
		move_money(pop, root, i % ACCOUNTS, (i + 3) % ACCOUNTS, 10 + i, bug);
		pmfit_region_end();
	}
	pmemobj_close(pop);
	return 0;
}

/* report -- print the ledger; whether its balances add up */
static int
report(const char *path)
{
	PMEMobjpool *pop = open_pool(path);
	if (pop == NULL)
		return -1;
	TOID(struct ledger) root = POBJ_ROOT(pop, struct ledger);
	int64_t total = 0;
	printf("transfers %llu:", (unsigned long long)D_RO(root)->transfers);
	for (int i = 0; i < ACCOUNTS; i++) {
		total += D_RO(root)->balance[i];
		printf(" %lld", (long long)D_RO(root)->balance[i]);
	}
	printf("\n");
	pmemobj_close(pop);
	if (total != (int64_t)ACCOUNTS * OPENING_BALANCE) {
		printf("money not conserved: total %lld\n", (long long)total);
		return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "create") == 0)
		return create(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "transfer") == 0)
		return transfer(argv[2], atoi(argv[3]), argc >= 5 && strcmp(argv[4], "--bug") == 0);
	if (argc >= 3 && strcmp(argv[1], "check") == 0)
		return report(argv[2]) == 1 ? 0 : 1;
	if (argc >= 3 && strcmp(argv[1], "show") == 0)
		return report(argv[2]) < 0 ? 1 : 0;
	fprintf(stderr, "usage: bank create|transfer|check|show POOL [N [--bug]]\n");
	return 2;
}
