"""Exceptions of long jobs: raised by ``task.progress()`` or by a job's own code."""


class JobStopped(Exception):
    """The job must stop now: its record says it is over. Do not catch it in a job."""


class JobCancelled(JobStopped):
    """The owner or staff asked to cancel the job; the job ends as ``cancelled``."""


class JobError(Exception):
    """A job failed for a reason its owner may read: the message is shown as the job's error."""
