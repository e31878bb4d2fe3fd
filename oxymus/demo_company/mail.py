"""The consultancy's inbox: three lead emails in a Maildir, as a mail client leaves them.

Three different people: one with a budget and a date (a workshop in March for about 5k), one who
wants a content retainer, one vague. Written once with the standard library's `mailbox.Maildir`
(a rerun finds them by Message-ID and adds none twice); dated a few days back from `now`.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class LeadMail:
    days_ago: float
    name: str
    address: str
    subject: str
    body: str
    message_id: str


LEAD_MAILS: tuple[LeadMail, ...] = (
    LeadMail(4.2, "Marta Keller", "marta.keller@northwind-analytics.example", "Workshop on writing for engineers in March?", """\
Hello,

I lead the platform team at Northwind Analytics (about 30 engineers). Our design docs and
incident write-ups have become long and hard to read, and a colleague who attended your
writing workshop last spring recommended you.

We would like to book a two-day workshop on technical writing for the team in March. We have
a training budget of around 5k EUR for it. On-site in Hamburg would be ideal, remote also works.

Best regards,
Marta Keller
Engineering Manager, Northwind Analytics
""", "<CAF7x2k1.workshop.4711@mail.northwind-analytics.example>"),
    LeadMail(2.6, "Jonas Brandt", "jonas@brandt-cycles.example", "Blog posts every month for our shop", """\
Hi,

we sell refurbished bikes online and our blog has been silent for a year.
We are looking for a content retainer: two blog posts a month, written for us on an ongoing basis.
Guides, repair stories, the odd customer portrait. What would it cost per month?

Cheers,
Jonas Brandt
Founder, Brandt Cycles
""", "<9c1e.blog@brandt-cycles.example>"),
    LeadMail(0.8, "Priya Raman", "priya.raman@gmail.com", "Quick question", """\
Hi there,

I found your site through the post about plans that attach to something real. I am starting
something new and wondered whether you could help with the writing side of it. Could we have a chat?

Thanks,
Priya
""", "<CAJp0q9.chat.5521@mail.gmail.com>"),
)


def message(mail: LeadMail, now: dt.datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{mail.name} <{mail.address}>"
    msg["To"] = "Demo Person <hello@demo-studio.example>"
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(now - dt.timedelta(days=mail.days_ago))
    msg["Message-ID"] = mail.message_id
    msg.set_content(mail.body)
    return msg


def seed_maildir(path: str, now: dt.datetime) -> int:
    """Deliver the lead mails missing from the Maildir at `path` (made if needed) into new/; returns how many."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    box = mailbox.Maildir(path, create=True)
    try:
        have = {m.get("Message-ID") for m in box}
        added = 0
        for mail in LEAD_MAILS:
            if mail.message_id in have:
                continue
            box.add(mailbox.MaildirMessage(message(mail, now)))
            added += 1
    finally:
        box.close()
    return added
