"""The distributor: launches task instances on a cluster and reports what becomes of them."""
