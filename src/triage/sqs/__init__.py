"""The queue side: the `Inbox` seam over SQS (its limits defined once, in `inbox`), the
supervisor that receives into a bounded pool of workers (`supervisor`, the lifecycle, built
from `base`, `store_watch`, `holding`, `working` and `receiving`), the acker that deletes in
batches, and a message's identity across a DLQ redrive (`identity`)."""
