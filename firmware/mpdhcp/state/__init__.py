# state/: lease state for every engine. The fixed-record tables (table, leases4, leases6), the
# one allocator both servers use (alloc), and the journal that makes them durable. Imports
# only wire/.
