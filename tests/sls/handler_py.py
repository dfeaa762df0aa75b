"""Firehose data-transformation handlers for AWS Lambda (Python), as deployed there."""
import base64


def upper(event, context):
    """Upper-cases each record; records starting with b"fail" get ProcessingFailed,
    records starting with b"drop" are Dropped."""
    out = []
    for r in event["records"]:
        data = base64.b64decode(r["data"])
        if data.startswith(b"fail"):
            out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
        elif data.startswith(b"drop"):
            out.append({"recordId": r["recordId"], "result": "Dropped"})
        else:
            out.append({"recordId": r["recordId"], "result": "Ok",
                        "data": base64.b64encode(data.upper()).decode()})
    return {"records": out}


def boom(event, context):
    raise ValueError("boom from python")
