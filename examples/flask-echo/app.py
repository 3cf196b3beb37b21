from flask import Flask, request
app = Flask(__name__)
@app.route('/')
def index():
    return f"Hello! You sent: {request.data.decode('utf-8')}"
if __name__ == '__main__':
    app.run(debug=True, host='0.0.0.0', port=8080)
