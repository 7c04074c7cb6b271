"""The ticket printer: layout in ESC/POS, connections, status, and printing with checks.

What the kiosk needs::

    from printer import (PrinterFault, TicketPrint, build_printer, check, close_printer,
                         load_logo, print_ticket_checked)

    printer = build_printer(site.printer)          # "sim" gives hardware_sim's printer
    logo = load_logo(site, site_file.parent)       # None when printer.logo is unset
    check(printer).details()                       # {"printer": "ok", "paper": "ok"} for status
    try:
        print_ticket_checked(printer, TicketPrint(...), site, logo)
    except PrinterFault as fault:                  # fault.code: paper_out, no_answer, ...
        ...void the ticket...
    close_printer(printer)
"""

from giliran.errors import PrinterFault
from printer.connection import build_printer, close_printer, describe
from printer.layout import (
    ClosedSlip,
    TicketPrint,
    draw_closed_slip,
    draw_test_page,
    draw_ticket,
    load_logo,
)
from printer.status import PrinterHealth, check
from printer.transaction import (
    print_closed_slip_checked,
    print_test_page_checked,
    print_ticket_checked,
    render,
    send_checked,
)

__all__ = [
    "ClosedSlip",
    "PrinterFault",
    "PrinterHealth",
    "TicketPrint",
    "build_printer",
    "check",
    "close_printer",
    "describe",
    "draw_closed_slip",
    "draw_test_page",
    "draw_ticket",
    "load_logo",
    "print_closed_slip_checked",
    "print_test_page_checked",
    "print_ticket_checked",
    "render",
    "send_checked",
]
