"""The queue side: the `Inbox` seam over SQS (its limits defined once, in `inbox`), the
supervisor that receives into a bounded pool of workers, and the acker that deletes in batches."""
